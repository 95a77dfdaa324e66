package dev.d2v.infra;

import java.util.ArrayList;
import java.util.List;

/** Topic names, all derived from one prefix (default "d2v") so that several pipelines can share a cluster. */
public record Topics(String prefix) {
    public Topics {
        if (prefix == null || prefix.isBlank() || !prefix.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("topic prefix must be non-empty and use only [A-Za-z0-9._-]: '" + prefix + "'");
        }
    }

    public static Topics defaults() {
        return new Topics("d2v");
    }

    /** Raw records of one modality: key = sample id, value = file bytes. */
    public String raw(Modality m) {
        return prefix + ".raw." + m.id();
    }

    /** Minibatches of one modality in the minibatch codec. */
    public String batch(Modality m) {
        return prefix + ".batch." + m.id();
    }

    public String checkpoints() {
        return prefix + ".checkpoints";
    }

    public String eval() {
        return prefix + ".eval";
    }

    public String deadLetter() {
        return prefix + ".deadletter";
    }

    /** The evaluator's promotions: which checkpoint is the best so far per modality ({@code PromotionEvent}). */
    public String promotions() {
        return prefix + ".promotions";
    }

    /** Every topic the pipeline uses, raw and batch topics first. */
    public List<String> all() {
        List<String> names = new ArrayList<>();
        for (Modality m : Modality.values()) {
            names.add(raw(m));
        }
        for (Modality m : Modality.values()) {
            names.add(batch(m));
        }
        names.add(checkpoints());
        names.add(eval());
        names.add(deadLetter());
        names.add(promotions());
        return names;
    }
}

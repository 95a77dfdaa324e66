package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Weighted round-robin over the enabled modalities, as a pure function of the optimizer step, so that a resumed run
 * takes the same turns as the run that never stopped (when every modality has data waiting).
 */
public final class RoundRobin {

    private final List<Modality> cycle;

    public RoundRobin(Map<Modality, Integer> weights) {
        this.cycle = cycle(weights);
    }

    /**
     * The turns of one cycle, interleaved smoothly (nginx's smooth weighted round-robin): weights image 2, audio 1
     * give [image, audio, image]; length = sum of weights. Ties go to the modality first in enum order.
     */
    static List<Modality> cycle(Map<Modality, Integer> weights) {
        Map<Modality, Integer> w = new EnumMap<>(weights);
        int total = w.values().stream().mapToInt(Integer::intValue).sum();
        Map<Modality, Integer> current = new EnumMap<>(Modality.class);
        w.keySet().forEach(m -> current.put(m, 0));
        List<Modality> out = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            Modality best = null;
            for (Modality m : w.keySet()) {
                current.merge(m, w.get(m), Integer::sum);
                if (best == null || current.get(m) > current.get(best)) {
                    best = m;
                }
            }
            current.merge(best, -total, Integer::sum);
            out.add(best);
        }
        return Collections.unmodifiableList(out);
    }

    public List<Modality> cycle() {
        return cycle;
    }

    /**
     * Who gets step t, then who is asked next when that modality has nothing waiting: the distinct modalities in
     * cycle order starting at slot t mod cycle length.
     */
    public List<Modality> turnOrder(long step) {
        int n = cycle.size();
        int start = (int) Math.floorMod(step, (long) n);
        LinkedHashSet<Modality> order = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            order.add(cycle.get((start + i) % n));
        }
        return List.copyOf(order);
    }
}

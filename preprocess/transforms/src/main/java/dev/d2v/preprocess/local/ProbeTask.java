package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * A labeled probe task as evaluation-mode minibatches, for measuring a pretrained encoder on a downstream
 * classification: the train split to fit the probe on, the test split to score it, and the label names by class id
 * (shared by both splits).
 *
 * <p>Layouts: {@code <root>/{train,test}/<label>/<file>} for images and audio; {@code train.jsonl} /
 * {@code test.jsonl} with "text" and "label" for text; or a shipped dataset by name ({@link #SHIPPED}). Inputs
 * go through the same transforms as training, in Mode.EVAL, in source order, the last batch of each split partial.
 *
 * @param name       the dataset or folder name
 * @param labelNames class id -> label name
 * @param vocabulary the text vocabulary the batches were encoded with (null for image and audio)
 * @param skipped    records of either split that could not be used, by reason
 */
public record ProbeTask(String name, Modality modality, List<String> labelNames, List<Minibatch> train,
                        List<Minibatch> test, Vocabulary vocabulary, LocalBatches.Stats skipped) {

    /** The shipped labeled datasets: Fashion-MNIST, MNIST, spoken digits, WordNet noun supersense, Austen. */
    public static final Set<String> SHIPPED = Set.of("fashion-mnist", "mnist", "spoken-digits", "wordnet", "austen");

    public ProbeTask {
        labelNames = List.copyOf(labelNames);
        train = List.copyOf(train);
        test = List.copyOf(test);
    }

    /**
     * Loads a task by dataset name (fetched into {@code ctx}'s cache when missing) or folder/JSONL path.
     *
     * @param vocabulary for text, the vocabulary of the encoder being probed (a pretrained model's own); null builds
     *                   one from the task's train split
     */
    public static ProbeTask load(String data, DataContext ctx, Transforms transforms, int batchSize,
                                 Vocabulary vocabulary) throws IOException {
        return of(LocalSource.open(data, null, ctx), transforms, batchSize, vocabulary);
    }

    /** A task from a source that has labeled "train" and "test" items. */
    public static ProbeTask of(LocalSource source, Transforms transforms, int batchSize, Vocabulary vocabulary)
            throws IOException {
        LocalSource train = source.split("train");
        LocalSource test = source.split("test");
        if (source.labels().isEmpty() || train.size() == 0 || test.size() == 0) {
            throw new IOException("probe task " + source.name() + " needs labeled train and test splits ("
                    + "<root>/{train,test}/<label>/<file>, or train.jsonl/test.jsonl with \"text\" and \"label\"); found "
                    + train.size() + " train and " + test.size() + " test " + source.modality().id() + " records and "
                    + source.labels().size() + " labels");
        }
        Vocabulary vocab = source.modality() != Modality.TEXT ? null
                : vocabulary != null ? vocabulary : LocalBatches.vocabulary(source, transforms.text(), null);
        LocalBatches.Options eval = LocalBatches.Options.evaluation(batchSize);
        LocalBatches tr = new LocalBatches(train, transforms, vocab, eval);
        LocalBatches te = new LocalBatches(test, transforms, vocab, eval);
        List<Minibatch> trainBatches = tr.epoch(0);
        List<Minibatch> testBatches = te.epoch(0);
        return new ProbeTask(source.name(), source.modality(), source.labels().names(), trainBatches, testBatches,
                vocab, merged(tr.stats(), te.stats()));
    }

    private static LocalBatches.Stats merged(LocalBatches.Stats a, LocalBatches.Stats b) {
        LocalBatches.Stats s = new LocalBatches.Stats();
        s.addAll(a);
        s.addAll(b);
        return s;
    }

    public int trainSamples() {
        return train.stream().mapToInt(Minibatch::batchSize).sum();
    }

    public int testSamples() {
        return test.stream().mapToInt(Minibatch::batchSize).sum();
    }
}

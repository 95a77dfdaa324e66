package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.RawItem;
import dev.d2v.preprocess.batch.BatchAssembler;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextEncoder;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The offline loader: a {@link LocalSource} to {@link Minibatch}es through the Flink job's own steps (the
 * modality's {@link TransformSpec}, its {@link SampleTransformer} and {@link BatchAssembler#assemble}), for
 * {@code ./d2v pretrain} (training without Kafka) and the evaluator's probes.
 *
 * <ul>
 *   <li>Order: per epoch a permutation of the items drawn from (seed, epoch) when shuffling, else the source
 *       order; the same seed gives the same batches.</li>
 *   <li>Augmentation: Mode.TRAIN crops/flips seeded by (sample id, epoch) inside the transforms; Mode.EVAL none.</li>
 *   <li>Labels: the source's {@link LabelIndex} (sorted label names); a batch carries labels when any of its
 *       samples has one (the others -1).</li>
 *   <li>Bad records (unreadable, undecodable, empty, oversized...) are skipped and counted by reason; a record
 *       found bad is not read again in later epochs. An epoch with no usable sample at all is an error.</li>
 *   <li>Epoch end: a last batch with fewer samples is emitted marked {@code partial}, or dropped with
 *       {@code dropLast} (training wants fixed shapes; probes want every sample).</li>
 * </ul>
 *
 * <p>Batches have createdAtMs 0 (no event time offline), so equal inputs give equal records. Not thread-safe.
 */
public final class LocalBatches {

    /**
     * @param batchSize samples per batch (the modality's configured size; default image 256, audio 64, text 64)
     * @param mode      TRAIN for pretraining (augmentation), EVAL for probes (deterministic)
     * @param seed      seed of the per-epoch shuffle (data.seed)
     * @param shuffle   a new permutation each epoch (training); false keeps the source order (probes)
     * @param dropLast  drop an epoch's last short batch (training: fixed shapes) instead of emitting it partial
     */
    public record Options(int batchSize, Mode mode, long seed, boolean shuffle, boolean dropLast) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (mode == null) {
                throw new IllegalArgumentException("mode is required (TRAIN or EVAL)");
            }
        }

        /** Pretraining: TRAIN mode, shuffled per epoch, full batches only. */
        public static Options training(int batchSize, long seed) {
            return new Options(batchSize, Mode.TRAIN, seed, true, true);
        }

        /** Probes: EVAL mode, source order, every sample (the last batch may be partial). */
        public static Options evaluation(int batchSize) {
            return new Options(batchSize, Mode.EVAL, 0, false, false);
        }
    }

    /** Where reading stands: the epoch and the index in that epoch's order of the next item to read. */
    public record Position(long epoch, int nextItem) {
        public static final Position START = new Position(0, 0);

        public Position {
            if (epoch < 0 || nextItem < 0) {
                throw new IllegalArgumentException("position needs epoch >= 0 and nextItem >= 0");
            }
        }
    }

    /** One skipped record and why: {@code reason} is a BadRecordException code or "unreadable". */
    public record Skip(String sampleId, String source, String reason, String message) {}

    /** Skips so far: count per reason and the first {@value #EXAMPLES} with their messages. */
    public static final class Stats {
        static final int EXAMPLES = 50;
        private final Map<String, Long> byReason = new TreeMap<>();
        private final List<Skip> examples = new ArrayList<>();

        public Stats() {
        }

        void add(Skip s) {
            byReason.merge(s.reason(), 1L, Long::sum);
            if (examples.size() < EXAMPLES) {
                examples.add(s);
            }
        }

        void addAll(Stats other) {
            other.byReason.forEach((k, v) -> byReason.merge(k, v, Long::sum));
            other.examples.stream().limit(Math.max(0, EXAMPLES - examples.size())).forEach(examples::add);
        }

        public long skipped() {
            return byReason.values().stream().mapToLong(Long::longValue).sum();
        }

        public Map<String, Long> byReason() {
            return Collections.unmodifiableMap(byReason);
        }

        public List<Skip> examples() {
            return Collections.unmodifiableList(examples);
        }

        @Override
        public String toString() {
            return skipped() + " skipped " + byReason;
        }
    }

    private final LocalSource source;
    private final Options options;
    private final SampleTransformer transformer;
    private final BatchSpec batchSpec;
    private final Vocabulary vocabulary;
    private final Stats stats = new Stats();
    private final Set<Integer> bad = new HashSet<>();

    /**
     * @param vocabulary required for text (see {@link #vocabulary(LocalSource, TextTransformConfig, Path)}), ignored
     *                   otherwise
     */
    public LocalBatches(LocalSource source, Transforms transforms, Vocabulary vocabulary, Options options) {
        if (source.modality() == Modality.TEXT && vocabulary == null) {
            throw new IllegalArgumentException("text batches need a vocabulary: LocalBatches.vocabulary(source, cfg, file)");
        }
        this.source = source;
        this.options = options;
        this.vocabulary = source.modality() == Modality.TEXT ? vocabulary : null;
        TransformSpec spec = transforms.spec(source.modality(), this.vocabulary, 0); // the epoch is passed per sample
        this.transformer = spec.open();
        // the timeout is the stream batcher's; offline an epoch's end is what makes a batch partial
        this.batchSpec = spec.batchSpec(options.batchSize(), BatchSpec.DEFAULT_TIMEOUT_MS);
    }

    /**
     * The text vocabulary: loaded from {@code stored} when that file exists, else built from the source's train
     * split (all of it when it has none) with the shared {@link Vocabulary#build} and saved to {@code stored}
     * (when not null). Records that are not valid UTF-8 are left out of the counts.
     */
    public static Vocabulary vocabulary(LocalSource source, TextTransformConfig cfg, Path stored) throws IOException {
        if (stored != null && Files.isRegularFile(stored)) {
            Vocabulary v = Vocabulary.load(stored);
            if (v.analyzer() != cfg.analyzer()) {
                throw new IllegalArgumentException("vocabulary " + stored + " was built with analyzer " + v.analyzer()
                        + " but the text config asks for " + cfg.analyzer() + "; delete it to rebuild");
            }
            return v;
        }
        LocalSource corpus = source.hasSplit("train") ? source.split("train") : source;
        List<String> texts = new ArrayList<>(corpus.size());
        for (RawItem item : corpus.items()) {
            try {
                texts.add(TextEncoder.decodeUtf8(item.bytes().get(), cfg.maxBytes()));
            } catch (IOException | BadRecordException e) {
                // counted when the batches are built; the vocabulary just does without it
            }
        }
        Vocabulary v;
        try (TextAnalysis analysis = new TextAnalysis(cfg.analyzer())) {
            v = Vocabulary.build(texts, analysis, cfg);
        }
        if (stored != null) {
            v.save(stored);
        }
        return v;
    }

    public LocalSource source() {
        return source;
    }

    public Options options() {
        return options;
    }

    /** The labels' names by class id. */
    public LabelIndex labels() {
        return source.labels();
    }

    /** The text vocabulary in use, or null for image and audio. */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** Shape of one sample (image [C, H, W], audio [frames, mels], text [L]); a batch is [B, ...this]. */
    public int[] sampleShape() {
        return batchSpec.sampleShape();
    }

    /** The preprocessing config hash of every batch (the Flink job's for the same transforms and vocabulary). */
    public long configHash() {
        return batchSpec.configHash();
    }

    /** Skipped records so far. */
    public Stats stats() {
        return stats;
    }

    /** The item order of {@code epoch}: a permutation of 0..n-1 drawn from (seed, epoch), or 0..n-1. */
    public int[] order(long epoch) {
        int n = source.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (options.shuffle()) {
            SplittableRandom rng = new SplittableRandom(StableHash.mix(StableHash.mix(options.seed()) ^ epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** Every batch of one epoch. */
    public List<Minibatch> epoch(long epoch) {
        List<Minibatch> out = new ArrayList<>();
        iterator(new Position(epoch, 0), epoch + 1).forEachRemaining(out::add);
        return out;
    }

    /** Batches from {@code start} on, epoch after epoch, without end (training). */
    public Stream<Minibatch> stream(Position start) {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(start, Long.MAX_VALUE),
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** Batches from {@code start} up to (not including) epoch {@code endEpoch}; its position says where it is. */
    public BatchIterator iterator(Position start, long endEpoch) {
        return new BatchIterator(start, endEpoch);
    }

    /**
     * An iterator over batches whose {@link #position()} after each batch is where a resume starts. With text
     * splitLongText a record's blocks may straddle two batches; a resume then loses the carried blocks.
     */
    public final class BatchIterator implements Iterator<Minibatch> {
        private final long endEpoch;
        private long epoch;
        private int next;
        private int[] order;
        private boolean fromEpochStart;
        private int usableThisEpoch;
        private final List<Sample> carry = new ArrayList<>();
        private Minibatch ready;
        private Position readyPosition;
        private Position returned;

        BatchIterator(Position start, long endEpoch) {
            this.returned = start;
            this.epoch = start.epoch();
            this.next = start.nextItem();
            this.fromEpochStart = start.nextItem() == 0;
            this.endEpoch = endEpoch;
            this.order = epoch < endEpoch ? order(epoch) : new int[0];
        }

        /** Epoch and next item to read after the last batch returned by {@link #next()} (a prefetch does not count). */
        public Position position() {
            return returned;
        }

        @Override
        public boolean hasNext() {
            if (ready == null) {
                ready = advance();
                readyPosition = new Position(epoch, next);
            }
            return ready != null;
        }

        @Override
        public Minibatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Minibatch b = ready;
            ready = null;
            returned = readyPosition;
            return b;
        }

        /** Reads items until a batch is full or the epoch ends; a batch never mixes epochs. */
        private Minibatch advance() {
            int b = options.batchSize();
            while (epoch < endEpoch) {
                while (carry.size() < b && next < order.length) {
                    int item = order[next++];
                    List<Sample> samples = transform(item, epoch);
                    carry.addAll(samples);
                    usableThisEpoch += samples.size();
                }
                if (carry.size() >= b) {
                    return take(b);
                }
                // epoch end: the short rest is a partial batch, or dropped
                Minibatch last = !carry.isEmpty() && !options.dropLast() ? take(carry.size()) : null;
                carry.clear();
                if (fromEpochStart && usableThisEpoch < (options.dropLast() ? b : 1)) {
                    throw new IllegalStateException(source.name() + " (" + source.modality().id() + ", "
                            + order.length + " records) has " + usableThisEpoch + " usable samples"
                            + (options.dropLast() ? ", fewer than one batch of " + b : "") + "; " + stats
                            + (stats.examples().isEmpty() ? "" : ", first: " + stats.examples().get(0)));
                }
                epoch++;
                next = 0;
                fromEpochStart = true;
                usableThisEpoch = 0;
                order = epoch < endEpoch ? order(epoch) : new int[0];
                if (last != null) {
                    return last;
                }
            }
            return null;
        }

        /** The first n carried samples as one batch, [n, ...sampleShape], partial when n &lt; batch size. */
        private Minibatch take(int n) {
            List<Sample> first = carry.subList(0, n);
            Minibatch batch = BatchAssembler.assemble(batchSpec, first);
            first.clear();
            return batch;
        }
    }

    /**
     * The samples of item {@code index} with its class id ({@link #labels()}) and event time 0, or none when it is
     * bad (counted once, remembered).
     */
    private List<Sample> transform(int index, long epoch) {
        if (bad.contains(index)) {
            return List.of();
        }
        RawItem item = source.items().get(index);
        try {
            return transformer.apply(item.id(), item.bytes().get(), epoch, options.mode(), labels().index(item.label()), 0);
        } catch (IOException e) {
            skip(index, item, "unreadable", e.getMessage());
        } catch (RuntimeException e) {
            // classified by the transforms or not (a decoder failing its own way): one bad record, not a dead run
            skip(index, item, BadRecordException.reasonOf(e), BadRecordException.messageOf(e));
        }
        return List.of();
    }

    private void skip(int index, RawItem item, String reason, String message) {
        bad.add(index);
        stats.add(new Skip(item.id(), item.source(), reason, message));
    }
}

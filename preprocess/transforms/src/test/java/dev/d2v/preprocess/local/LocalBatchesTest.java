package dev.d2v.preprocess.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransform;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBatchesTest {

    @TempDir
    Path tmp;

    private static List<String> ids(List<Minibatch> batches) {
        return batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
    }

    @Test
    void imageBatchesHaveTheTransformShapeLabelsAndEverySampleOncePerEpoch() throws IOException {
        LocalSource all = LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null);
        assertThat(all.modality()).isEqualTo(Modality.IMAGE);
        assertThat(all.labels().names()).containsExactly("cat", "dog");
        LocalSource train = all.split("train");
        assertThat(train.size()).isEqualTo(11);

        LocalBatches lb = new LocalBatches(train, Transforms.defaults(), null,
                new LocalBatches.Options(4, Mode.TRAIN, 7, true, false));
        List<Minibatch> e0 = lb.epoch(0);
        assertThat(e0).extracting(Minibatch::batchSize).containsExactly(4, 4, 2);
        assertThat(e0).extracting(Minibatch::partial).containsExactly(false, false, true);
        for (Minibatch b : e0) {
            assertThat(b.modality()).isEqualTo(Modality.IMAGE);
            assertThat(b.dtype()).isEqualTo(DType.UINT8);
            assertThat(b.shape()).containsExactly(b.batchSize(), 1, 28, 28);
            assertThat(b.preprocessConfigHash()).isEqualTo(ImageTransformConfig.defaults().hash());
            assertThat(b.createdAtMs()).isZero();
            for (int i = 0; i < b.batchSize(); i++) {
                String label = b.sampleIds().get(i).split("/")[2];
                assertThat(b.labels()[i]).as(b.sampleIds().get(i)).isEqualTo(label.equals("cat") ? 0 : 1);
            }
        }
        List<String> good = train.items().stream().map(RawItem::id).filter(id -> !id.endsWith("/bad")).toList();
        assertThat(ids(e0)).hasSize(10).containsExactlyInAnyOrderElementsOf(good);
        assertThat(lb.stats().byReason()).isEqualTo(Map.of("undecodable-image", 1L));
        assertThat(lb.stats().examples()).singleElement().extracting(LocalBatches.Skip::sampleId)
                .isEqualTo("pets/train/cat/bad");

        List<Minibatch> e1 = lb.epoch(1);
        assertThat(ids(e1)).containsExactlyInAnyOrderElementsOf(good);
        assertThat(ids(e1)).isNotEqualTo(ids(e0)); // reshuffled
        assertThat(lb.stats().skipped()).isEqualTo(1); // a bad record is counted once, not per epoch
    }

    @Test
    void sameSeedSameBatchesAndTrainAugmentationFollowsTheEpoch() throws IOException {
        LocalSource train = LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null).split("train");
        LocalBatches a = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(3, 11));
        LocalBatches b = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(3, 11));
        LocalBatches c = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(3, 12));
        assertThat(a.epoch(0)).isEqualTo(b.epoch(0));
        assertThat(a.epoch(3)).isEqualTo(b.epoch(3));
        assertThat(ids(c.epoch(0))).isNotEqualTo(ids(a.epoch(0)));

        // the payload of a sample is the shared transform's output for (id, epoch) in TRAIN mode
        ImageTransform t = new ImageTransform(ImageTransformConfig.defaults());
        Map<String, RawItem> byId = train.items().stream().collect(Collectors.toMap(RawItem::id, i -> i));
        for (long epoch : new long[] {0, 1}) {
            Minibatch first = a.epoch(epoch).get(0);
            String id = first.sampleIds().get(0);
            byte[] expect = t.apply(byId.get(id).bytes().get(), id, epoch, Mode.TRAIN);
            assertThat(Arrays.copyOf(first.payload(), 28 * 28)).isEqualTo(expect);
        }
    }

    @Test
    void evalModeKeepsSourceOrderAndMatchesTheTransform() throws IOException {
        LocalSource test = LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null).split("test");
        LocalBatches lb = new LocalBatches(test, Transforms.defaults(), null, LocalBatches.Options.evaluation(3));
        List<Minibatch> batches = lb.epoch(0);
        assertThat(ids(batches)).containsExactlyElementsOf(test.items().stream().map(RawItem::id).toList());
        ImageTransform t = new ImageTransform(ImageTransformConfig.defaults());
        Minibatch last = batches.get(batches.size() - 1);
        RawItem item = test.items().get(test.size() - 1);
        byte[] expect = t.apply(item.bytes().get(), item.id(), 0, Mode.EVAL);
        byte[] p = last.payload();
        assertThat(Arrays.copyOfRange(p, p.length - 28 * 28, p.length)).isEqualTo(expect);
    }

    @Test
    void trainingLoopsOverEpochsAndResumesFromAPosition() throws IOException {
        LocalSource train = LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null).split("train");
        LocalBatches lb = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(4, 5));
        LocalBatches.BatchIterator it = lb.iterator(LocalBatches.Position.START, Long.MAX_VALUE);
        List<Minibatch> seen = new ArrayList<>();
        List<LocalBatches.Position> positions = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            seen.add(it.next());
            LocalBatches.Position p = it.position();
            assertThat(it.hasNext()).isTrue(); // a prefetch does not move the position
            assertThat(it.position()).isEqualTo(p);
            positions.add(p);
        }
        // 10 good samples, batches of 4 with dropLast: 2 full batches per epoch
        assertThat(seen).allSatisfy(b -> assertThat(b.batchSize()).isEqualTo(4)).noneMatch(Minibatch::partial);
        assertThat(positions).extracting(LocalBatches.Position::epoch).containsExactly(0L, 0L, 1L, 1L, 2L, 2L);
        assertThat(lb.stream(LocalBatches.Position.START).limit(6).toList()).isEqualTo(seen);

        LocalBatches fresh = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(4, 5));
        LocalBatches.BatchIterator resumed = fresh.iterator(positions.get(2), Long.MAX_VALUE);
        assertThat(List.of(resumed.next(), resumed.next(), resumed.next())).isEqualTo(seen.subList(3, 6));
    }

    @Test
    void tooFewUsableSamplesIsAnErrorNotAHang() throws IOException {
        LocalSource train = LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null).split("train");
        LocalBatches lb = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(64, 1));
        assertThatThrownBy(() -> lb.stream(LocalBatches.Position.START).findFirst())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("10 usable samples")
                .hasMessageContaining("fewer than one batch of 64");
    }

    @Test
    void audioBatchesAreFp16LogMelWithValidFramesAndBadWavsAreSkipped() throws IOException {
        LocalSource train = LocalSource.path(Fixtures.audioFolder(tmp.resolve("tones")), null).split("train");
        assertThat(train.modality()).isEqualTo(Modality.AUDIO);
        assertThat(train.labels().names()).containsExactly("high", "low");
        LocalBatches lb = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.evaluation(4));
        List<Minibatch> batches = lb.epoch(0);
        AudioTransformConfig cfg = AudioTransformConfig.defaults();
        assertThat(ids(batches)).hasSize(6).doesNotHaveDuplicates();
        Map<String, Integer> valid = new HashMap<>();
        for (Minibatch b : batches) {
            assertThat(b.dtype()).isEqualTo(DType.FP16);
            assertThat(b.shape()).containsExactly(b.batchSize(), cfg.frames(), cfg.mels());
            assertThat(b.preprocessConfigHash()).isEqualTo(cfg.hash());
            for (int i = 0; i < b.batchSize(); i++) {
                valid.put(b.sampleIds().get(i), b.validLengths()[i]);
                assertThat(b.labels()[i]).isEqualTo(b.sampleIds().get(i).contains("/high/") ? 0 : 1);
            }
        }
        // 0.5 s = 8000 samples: 1 + (8000 - 400) / 160 = 48 frames; 1 s: 98
        assertThat(valid).containsEntry("tones/train/low/0", 48).containsEntry("tones/train/low/1", 98);
        assertThat(lb.stats().skipped()).isEqualTo(2);
        assertThat(lb.stats().examples()).extracting(LocalBatches.Skip::sampleId)
                .containsExactlyInAnyOrder("tones/train/low/cut", "tones/train/high/text");
        assertThat(lb.stats().byReason().keySet()).allMatch(r -> r.equals("truncated-audio") || r.equals("not-wav"));
    }

    @Test
    void textVocabularyComesFromTheTrainSplitAndIsStored() throws IOException {
        LocalSource src = LocalSource.path(Fixtures.textFolder(tmp.resolve("news")), Modality.TEXT);
        TextTransformConfig cfg = TextTransformConfig.defaults().withBlocks(16, false, 1);
        Path stored = tmp.resolve("vocab.txt");
        Vocabulary v = LocalBatches.vocabulary(src, cfg, stored);
        assertThat(stored).exists();
        assertThat(v.token(5)).isEqualTo("the"); // most frequent word of the train split
        assertThat(v.id("zebra")).isGreaterThanOrEqualTo(Vocabulary.SPECIALS.size() + v.wordCount()); // test only: a bucket
        assertThat(v.id("cat")).isLessThan(Vocabulary.SPECIALS.size() + v.wordCount());
        assertThat(LocalBatches.vocabulary(src, cfg, stored).contentHash()).isEqualTo(v.contentHash());

        Transforms t = new Transforms(ImageTransformConfig.defaults(), AudioTransformConfig.defaults(), cfg);
        LocalBatches lb = new LocalBatches(src.split("train"), t, v, LocalBatches.Options.evaluation(8));
        List<Minibatch> batches = lb.epoch(0);
        assertThat(batches).singleElement().satisfies(b -> {
            assertThat(b.dtype()).isEqualTo(DType.INT32);
            assertThat(b.shape()).containsExactly(5, 16);
            assertThat(b.partial()).isTrue();
            assertThat(b.preprocessConfigHash()).isEqualTo(StableHash.mix(cfg.hash() * 31 + v.contentHash()));
            int[] ids = b.toIntArray();
            // "The cat sat on the mat": [CLS] 6 words [SEP] -> valid 8
            assertThat(b.validLengths()[0]).isEqualTo(8);
            assertThat(ids[0]).isEqualTo(Vocabulary.CLS);
            assertThat(ids[1]).isEqualTo(v.id("the"));
            assertThat(ids[7]).isEqualTo(Vocabulary.SEP);
            assertThat(ids[8]).isEqualTo(Vocabulary.PAD);
            assertThat(b.labels()).containsExactly(0, 0, 1, 1, 0); // animal, animal, finance, finance, animal
        });
        assertThat(lb.stats().byReason()).isEqualTo(Map.of("unreadable", 1L, "empty", 1L));
    }

    @Test
    void textWithoutAVocabularyIsRefused() throws IOException {
        LocalSource src = LocalSource.path(Fixtures.textFolder(tmp.resolve("news")), Modality.TEXT);
        assertThatThrownBy(() -> new LocalBatches(src, Transforms.defaults(), null, LocalBatches.Options.evaluation(2)))
                .hasMessageContaining("vocabulary");
    }

    @Test
    void unknownDataIsAClearError() {
        assertThatThrownBy(() -> LocalSource.open(tmp.resolve("nope").toString(), null,
                new DataContext(tmp, 1, 0, null)))
                .hasMessageContaining("neither a dataset").hasMessageContaining("mnist");
    }

    @Test
    void splitsFilterAndUnlabeledItemsHaveNoLabel() throws IOException {
        Path root = Fixtures.imageFolder(tmp.resolve("pets"));
        Files.createDirectories(root.resolve("unlabeled"));
        Files.write(root.resolve("unlabeled/u.png"), Fixtures.png(28, 28, 99));
        LocalSource all = LocalSource.path(root, null);
        assertThat(all.split("test").size()).isEqualTo(4);
        assertThat(all.split(LocalSource.UNLABELED).items()).extracting(RawItem::id).containsExactly("pets/unlabeled/u");
        LocalBatches lb = new LocalBatches(all.split(LocalSource.UNLABELED), Transforms.defaults(), null,
                LocalBatches.Options.evaluation(2));
        assertThat(lb.epoch(0)).singleElement().satisfies(b -> assertThat(b.hasLabels()).isFalse());
    }
}

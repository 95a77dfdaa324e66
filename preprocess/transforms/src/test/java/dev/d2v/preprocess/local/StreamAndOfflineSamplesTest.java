package dev.d2v.preprocess.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.ingest.RawItem;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The streaming job and the offline loader make the same samples from the same record: a raw record as ingest
 * sends it (split header train or test), through the job's {@link SampleTransformer} in epoch E, against the
 * offline batches of epoch E in the matching mode.
 */
class StreamAndOfflineSamplesTest {

    private static final long EPOCH = 3;

    /**
     * Settings under which TRAIN randomises: RGB image crops and flips, audio longer than its 40 frames cropped at a
     * seeded start, text split into several blocks per record.
     */
    private static final Transforms TRANSFORMS = new Transforms(
            ImageTransformConfig.defaults().withChannels(3).withFlipProbability(0.5),
            AudioTransformConfig.defaults().withFrames(40), TextTransformConfig.defaults().withBlocks(5, true, 4));

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(Modality.class)
    void theJobsTransformerAndTheOfflineLoaderGiveTheSameSamples(Modality m) throws IOException {
        LocalSource source = switch (m) {
            case IMAGE -> LocalSource.path(Fixtures.imageFolder(tmp.resolve("pets")), null);
            case AUDIO -> LocalSource.path(Fixtures.audioFolder(tmp.resolve("tones")), null);
            case TEXT -> LocalSource.path(Fixtures.textFolder(tmp.resolve("news")), Modality.TEXT);
        };
        Vocabulary vocabulary = m == Modality.TEXT ? LocalBatches.vocabulary(source, TRANSFORMS.text(), null) : null;
        TransformSpec spec = TRANSFORMS.spec(m, vocabulary, EPOCH);
        for (String split : List.of("train", "test")) {
            Mode mode = split.equals("train") ? Mode.TRAIN : Mode.EVAL;
            LocalBatches offline = new LocalBatches(source.split(split), TRANSFORMS, vocabulary,
                    new LocalBatches.Options(1, mode, 0, false, false));
            List<Minibatch> batches = offline.epoch(EPOCH); // source order, one sample per batch
            List<String> offlineRows = new ArrayList<>();
            for (Minibatch b : batches) {
                assertThat(b.preprocessConfigHash()).isEqualTo(spec.configHash())
                        .isEqualTo(TRANSFORMS.configHash(m, vocabulary));
                assertThat(b.dtype()).isEqualTo(spec.dtype());
                offlineRows.add(row(b.sampleIds().get(0), b.validLengths()[0], b.payload()));
            }
            List<String> streamedRows = streamed(source.split(split), spec.open()).stream()
                    .map(s -> row(s.sampleId(), s.validLength(), s.payload())).toList();
            assertThat(streamedRows).as(m + " " + split).isNotEmpty().containsExactlyElementsOf(offlineRows);
        }
    }

    /** The job's samples of every readable, transformable item, its raw record made as ingest makes it. */
    private static List<Sample> streamed(LocalSource source, SampleTransformer transformer) {
        List<Sample> out = new ArrayList<>();
        for (RawItem item : source.items()) {
            try {
                RawHeaders headers = new RawHeaders(item.contentType(), item.source(), item.label(), item.split(), 1234);
                out.addAll(transformer.apply(RawRecord.of(item.id(), item.bytes().get(), headers)));
            } catch (IOException | BadRecordException e) {
                // left out offline too (counted in its stats)
            }
        }
        return out;
    }

    private static String row(String id, int validLength, byte[] payload) {
        return id + " valid=" + validLength + " " + HexFormat.of().formatHex(payload);
    }
}

package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Helpers of the spoken-set tests. */
final class SpokenTestSupport {

    /** Two accents x four variants, one held out: 6 train and 2 test speakers, quick to probe. */
    static final SpeakerSet SMALL = new SpeakerSet(List.of("en-us", "en-gb-x-rp"),
            List.of("m1", "f1", "klatt", "m3"), List.of("m3"));

    private SpokenTestSupport() {
    }

    static SpokenOptions smallOptions() {
        return SpokenOptions.defaults().withSpeakers(SMALL);
    }

    static boolean toolsInstalled() {
        try {
            new SpeechSynth("espeak-ng", "sox").versions();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static List<Path> wavFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".wav")).sorted().toList();
        }
    }

    /** Root mean square of a 16-bit PCM file's samples, in full scale (0..1). */
    static double rms(Path wav) throws IOException {
        byte[] bytes = Files.readAllBytes(wav);
        WavHeader h = WavHeader.parse(bytes);
        assertThat(h.bitsPerSample()).isEqualTo(16);
        ByteBuffer b = ByteBuffer.wrap(bytes, h.dataOffset(), h.dataBytes()).order(ByteOrder.LITTLE_ENDIAN);
        double sum = 0;
        int n = h.dataBytes() / 2;
        for (int i = 0; i < n; i++) {
            double x = b.getShort() / 32768.0;
            sum += x * x;
        }
        return Math.sqrt(sum / Math.max(1, n));
    }

    /** The speaker of a digit clip: en-us+m3 from "en-us+m3_02.wav". */
    static Speaker speakerOf(Path wav) {
        String f = wav.getFileName().toString();
        String name = f.substring(0, f.lastIndexOf('_'));
        int plus = name.indexOf('+');
        return new Speaker(name.substring(0, plus), name.substring(plus + 1));
    }
}

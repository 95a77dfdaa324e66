package dev.d2v.ingest.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Speech from the command-line tools espeak-ng (synthesis) and sox (noise, reverb, level, 16 kHz mono).
 * Output is byte-identical across runs: espeak-ng is deterministic, sox runs with -R (fixed seed for its
 * noise generator) and -D (no dither). Thread-safe: every call runs its own processes.
 */
public final class SpeechSynth {

    public static final String INSTALL_HINT = "install them with: apt-get install espeak-ng sox";
    /** Output format of every clip. */
    public static final int SAMPLE_RATE = 16_000;
    /** Neutral settings for {@link #probe}: espeak-ng's defaults. */
    static final int PROBE_PITCH = 50, PROBE_SPEED = 175;

    private final String espeak;
    private final String sox;

    public SpeechSynth(String espeakCommand, String soxCommand) {
        this.espeak = espeakCommand;
        this.sox = soxCommand;
    }

    /**
     * First line of {@code espeak-ng --version} and {@code sox --version}, keyed "espeak-ng" and "sox";
     * fails with an install hint when either is missing.
     */
    public Map<String, String> versions() throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("espeak-ng", firstLine(run(List.of(espeak, "--version"), true)).replaceFirst("\\s+Data at:.*", ""));
        v.put("sox", firstLine(run(List.of(sox, "--version"), true)).replaceFirst("^\\S+:\\s*", ""));
        return v;
    }

    /** espeak-ng's data folder, from "... Data at: /usr/lib/.../espeak-ng-data". */
    public Path espeakData() throws IOException {
        String version = run(List.of(espeak, "--version"), true);
        int at = version.indexOf("Data at:");
        if (at < 0) {
            throw new IOException("cannot find the data folder in `" + espeak + " --version`: " + version.strip());
        }
        return Path.of(firstLine(version.substring(at + "Data at:".length())).strip());
    }

    /**
     * Fails unless every variant is a file in espeak-ng-data/voices/!v: espeak-ng silently ignores an unknown
     * variant and speaks with the plain voice.
     */
    public void checkVariants(Collection<String> variants) throws IOException {
        Path dir = espeakData().resolve("voices").resolve("!v");
        for (String variant : variants) {
            if (!Files.isRegularFile(dir.resolve(variant))) {
                throw new IOException("espeak-ng has no voice variant '" + variant + "' (looked in " + dir
                        + "); list them with: ls '" + dir + "'");
            }
        }
    }

    /** The raw espeak-ng WAV (22.05 kHz) of {@code text} at neutral pitch and speed: a speaker's fingerprint. */
    public byte[] probe(Speaker speaker, String text) throws IOException {
        Path tmp = Files.createTempFile("d2v-probe-", ".wav");
        try {
            run(espeakCommand(speaker, text, PROBE_PITCH, PROBE_SPEED, tmp), false);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Speaks {@code text} as {@code speaker} in {@code style} into {@code out}: 16 kHz mono 16-bit PCM WAV. */
    public void render(Speaker speaker, String text, ClipStyle style, Path out) throws IOException {
        Path raw = out.resolveSibling(out.getFileName() + ".espeak.wav");
        try {
            run(espeakCommand(speaker, text, style.pitch(), style.speed(), raw), false);
            WavHeader h = WavHeader.read(raw);
            run(soxCommand(raw, h.sampleRate(), h.frames(), style, out), false);
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    List<String> espeakCommand(Speaker speaker, String text, int pitch, int speed, Path out) {
        return List.of(espeak, "-v", speaker.name(), "-p", Integer.toString(pitch), "-s", Integer.toString(speed),
                "-w", out.toString(), text);
    }

    /**
     * speech [+ noise] -> [leading silence] -> reverb -> 16 kHz -> mono -> peak-normalise -> level. The noise input is a second
     * sox process (also -R, so repeatable) whose stream is offset per clip and cut to the speech's length.
     */
    List<String> soxCommand(Path speech, int rate, long frames, ClipStyle style, Path out) {
        List<String> c = new ArrayList<>(List.of(sox, "-V1", "-R", "-D"));
        if (style.noise() > 0) {
            String noise = String.format(Locale.ROOT, "|%s -V1 -R -D -n -r %d -c 1 -p synth %ds whitenoise trim %ds",
                    sox, rate, frames + style.noiseOffset(), style.noiseOffset());
            c.addAll(List.of("-m", "-v", "1", speech.toString(), "-v", fmt(style.noise()), "-t", "sox", noise));
        } else {
            c.add(speech.toString());
        }
        c.addAll(List.of("-b", "16", "-e", "signed-integer", out.toString()));
        if (style.leadMillis() > 0) {
            c.addAll(List.of("pad", fmt(style.leadMillis() / 1000.0), "0"));
        }
        if (style.reverb() > 0) {
            c.addAll(List.of("reverb", Integer.toString(style.reverb())));
        }
        c.addAll(List.of("rate", Integer.toString(SAMPLE_RATE), "channels", "1", "gain", "-n",
                "vol", fmt(style.amplitude())));
        return c;
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.4f", x);
    }

    /** Runs {@code cmd}; returns its output (stdout and stderr when {@code merge}, else stderr). */
    static String run(List<String> cmd, boolean merge) throws IOException {
        String tool = Path.of(cmd.get(0)).getFileName().toString();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(merge);
        if (!merge) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run " + tool + " (" + e.getMessage() + "); the spoken datasets need "
                    + "espeak-ng and sox: " + INSTALL_HINT, e);
        }
        String output;
        try (InputStream in = merge ? p.getInputStream() : p.getErrorStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + tool, e);
        }
        if (rc != 0) {
            throw new IOException(tool + " failed with exit code " + rc + ": " + output.strip()
                    + "\ncommand: " + String.join(" ", cmd));
        }
        return output;
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }
}

package dev.d2v.pipelines.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CPU's fp32 peak: cores x GHz x FLOPs per cycle per core. FLOPs per cycle from the instruction set flags: two
 * FMA units of 16 (avx512f) or 8 (avx2 + fma) fp32 lanes, 2 FLOPs per FMA: 64 or 32; otherwise 16 (SSE: two 4-lane
 * units, add and mul). The clock is the nominal one in the model name ("@ 2.20GHz") where there is one, else the
 * highest "cpu MHz" (in a VM the host's reported clock; turbo is not counted).
 *
 * @param cores       cores the JVM may use (cgroup limits included)
 * @param ghz         clock
 * @param flopsPerCycle fp32 FLOPs per cycle per core
 * @param derivation  how the numbers were found, for the report
 */
public record CpuPeak(int cores, double ghz, int flopsPerCycle, String derivation) {

    private static final Pattern NOMINAL = Pattern.compile("@\\s*([0-9.]+)\\s*GHz");
    private static final Pattern MHZ = Pattern.compile("(?m)^cpu MHz\\s*:\\s*([0-9.]+)");
    private static final Pattern FLAGS = Pattern.compile("(?m)^flags\\s*:(.*)$");
    private static final Pattern MODEL = Pattern.compile("(?m)^model name\\s*:\\s*(.*)$");

    public double gflops() {
        return cores * ghz * flopsPerCycle;
    }

    /** This machine's peak from /proc/cpuinfo, or a 16-FLOP, 2 GHz guess where there is none. */
    public static CpuPeak here() {
        int cores = Runtime.getRuntime().availableProcessors();
        try {
            return parse(Files.readString(Path.of("/proc/cpuinfo")), cores);
        } catch (IOException e) {
            return new CpuPeak(cores, 2.0, 16, "no /proc/cpuinfo: guessed 2.0 GHz, 16 FLOPs/cycle");
        }
    }

    /**
     * Pure: the processor's bf16 features among the flags of a /proc/cpuinfo text (avx512_bf16, amx_bf16, amx_tile...),
     * "none" where it lists none, "unknown" where it has no flags line.
     */
    public static String bf16Flags(String cpuinfo) {
        Matcher flags = FLAGS.matcher(cpuinfo);
        if (!flags.find()) {
            return "unknown";
        }
        List<String> found = new ArrayList<>();
        for (String f : flags.group(1).trim().split("\\s+")) {
            if (f.contains("bf16") || f.startsWith("amx")) {
                found.add(f);
            }
        }
        return found.isEmpty() ? "none" : String.join(" ", found);
    }

    /** Pure: the peak from the text of /proc/cpuinfo and a core count. */
    public static CpuPeak parse(String cpuinfo, int cores) {
        Matcher flags = FLAGS.matcher(cpuinfo);
        String f = flags.find() ? " " + flags.group(1).trim() + " " : "";
        int perCycle;
        String isa;
        if (f.contains(" avx512f ")) {
            perCycle = 64;
            isa = "avx512f";
        } else if (f.contains(" avx2 ") && f.contains(" fma ")) {
            perCycle = 32;
            isa = "avx2+fma";
        } else {
            perCycle = 16;
            isa = "no avx2+fma";
        }
        Matcher model = MODEL.matcher(cpuinfo);
        String modelName = model.find() ? model.group(1).trim() : "unknown";
        Matcher nominal = NOMINAL.matcher(modelName);
        double ghz;
        String clock;
        if (nominal.find()) {
            ghz = Double.parseDouble(nominal.group(1));
            clock = "nominal " + ghz + " GHz from the model name";
        } else {
            double mhz = 0;
            Matcher m = MHZ.matcher(cpuinfo);
            while (m.find()) {
                mhz = Math.max(mhz, Double.parseDouble(m.group(1)));
            }
            ghz = mhz > 0 ? mhz / 1000 : 2.0;
            clock = mhz > 0 ? "cpu MHz " + mhz : "no clock listed, guessed 2.0 GHz";
        }
        return new CpuPeak(cores, ghz, perCycle, cores + " cores x " + String.format(Locale.ROOT, "%.3f", ghz)
                + " GHz (" + clock + ") x " + perCycle + " fp32 FLOPs/cycle (" + isa + "), " + modelName);
    }
}

package dev.d2v.pipelines.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training step's time goes, from libtorch's own profiler (the one {@code torch.autograd.profiler} drives,
 * reached through DJL's {@code JniUtils.startProfile}): every operator the step runs, with its start and duration
 * per thread, written as a Chrome trace and summed here.
 *
 * <ul>
 *   <li>{@code libtorchMsPerStep}: the time inside the top-level operators (those no other operator encloses): what
 *       libtorch itself computed, forward, backward and optimiser;</li>
 *   <li>{@code outsideMsPerStep}: the step's wall time less that: Java, the JNI crossings, DJL's bookkeeping of its
 *       arrays, mask generation, waiting;</li>
 *   <li>{@code topLevelOpsPerStep}: the operators the Java side called (each one JNI crossing and, for most, one new
 *       NDArray), against {@code opsPerStep}, all operators including those libtorch runs inside others;</li>
 *   <li>{@link #selfMsByKind}: each operator kind's self time (its duration less the operators inside it), the
 *       kinds that take the most first.</li>
 * </ul>
 *
 * The profiler adds its own cost to every operator, so the step is slower while profiled: shares, not the profiled
 * step time, are the figures to compare.
 */
record StepProfile(int steps, double stepMs, double libtorchMsPerStep, double topLevelOpsPerStep, double opsPerStep,
                   Map<String, Double> selfMsByKind) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    double outsideMsPerStep() {
        return Math.max(0, stepMs - libtorchMsPerStep);
    }

    /** Runs {@code step} {@code steps} times under the profiler (the trace file goes to scratch and is removed). */
    static StepProfile of(Runnable step, int steps, Path scratch) throws IOException {
        Path trace = Files.createTempFile(scratch, "step-profile", ".json");
        long t0;
        long t1;
        JniUtils.startProfile(false, false, false);
        try {
            t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                step.run();
            }
            t1 = System.nanoTime();
        } finally {
            JniUtils.stopProfile(trace.toString());
        }
        try {
            return summarise(JSON.readTree(trace.toFile()), steps, (t1 - t0) / 1e6 / steps);
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    /** The summary of a Chrome trace (an array of events, or an object with "traceEvents"). */
    static StepProfile summarise(JsonNode trace, int steps, double stepMs) {
        JsonNode events = trace.isArray() ? trace : trace.path("traceEvents");
        Map<String, List<double[]>> byThread = new HashMap<>();   // tid -> {ts, dur, kind index}
        List<String> kinds = new ArrayList<>();
        Map<String, Integer> kindIndex = new HashMap<>();
        for (JsonNode e : events) {
            if (!"X".equals(e.path("ph").asText()) || !e.has("dur")) {
                continue;
            }
            String name = e.path("name").asText();
            int k = kindIndex.computeIfAbsent(name, n -> {
                kinds.add(n);
                return kinds.size() - 1;
            });
            byThread.computeIfAbsent(e.path("tid").asText(), t -> new ArrayList<>())
                    .add(new double[] {e.path("ts").asDouble(), e.path("dur").asDouble(), k});
        }
        double[] self = new double[kinds.size()];
        double topLevelUs = 0;
        long topLevel = 0;
        long all = 0;
        for (List<double[]> ops : byThread.values()) {
            // by start, the enclosing operator before the ones inside it
            ops.sort(Comparator.<double[]>comparingDouble(o -> o[0]).thenComparing(o -> -o[1]));
            List<double[]> open = new ArrayList<>();   // the operators enclosing the current one, outermost first
            for (double[] op : ops) {
                while (!open.isEmpty() && op[0] >= last(open)[0] + last(open)[1]) {
                    open.remove(open.size() - 1);
                }
                all++;
                self[(int) op[2]] += op[1];
                if (open.isEmpty()) {
                    topLevel++;
                    topLevelUs += op[1];
                } else {
                    self[(int) last(open)[2]] -= op[1];
                }
                open.add(op);
            }
        }
        Map<String, Double> selfMs = new LinkedHashMap<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < kinds.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble(i -> -self[i]));
        for (int i : order) {
            selfMs.put(kinds.get(i), Math.max(0, self[i]) / 1e3 / steps);
        }
        return new StepProfile(steps, stepMs, topLevelUs / 1e3 / steps, (double) topLevel / steps, (double) all / steps,
                selfMs);
    }

    private static double[] last(List<double[]> l) {
        return l.get(l.size() - 1);
    }

    /** The n kinds with the most self time, as kind -> share of the libtorch time, 3 decimals. */
    Map<String, Object> topKinds(int n) {
        Map<String, Double> shares = new LinkedHashMap<>();
        double total = Math.max(selfMsByKind.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
        selfMsByKind.entrySet().stream().limit(n).forEach(e -> shares.put(e.getKey(), e.getValue() / total));
        return BenchResult.shares3(shares);
    }
}

package dev.d2v.pipelines.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Side-by-side timing: variants run interleaved (A, B, A, B, ...) after a warm-up, medians compared. */
final class Timing {

    private Timing() {}

    /** Something timed once per call, e.g. one optimizer step. */
    interface Action {
        void run() throws Exception;
    }

    /** Rounds always timed, whatever the time budget. */
    static final int MIN_ROUNDS = 3;

    /**
     * Runs each action warmup times, then up to rounds times in turn (a round runs every action once), and returns each
     * action's per-call times in seconds, in order: [action][round]. Stops after the round that passes budgetSeconds
     * of timed work, once {@link #MIN_ROUNDS} are done (a loaded machine can make a step 10x slower).
     */
    static double[][] interleaved(List<Action> actions, int warmup, int rounds, double budgetSeconds) throws Exception {
        for (int w = 0; w < warmup; w++) {
            for (Action a : actions) {
                a.run();
            }
        }
        double[][] times = new double[actions.size()][rounds];
        long start = System.nanoTime();
        int done = 0;
        while (done < rounds) {
            for (int i = 0; i < actions.size(); i++) {
                long t0 = System.nanoTime();
                actions.get(i).run();
                times[i][done] = (System.nanoTime() - t0) / 1e9;
            }
            done++;
            if (done >= MIN_ROUNDS && (System.nanoTime() - start) / 1e9 > budgetSeconds) {
                break;
            }
        }
        for (int i = 0; i < times.length; i++) {
            times[i] = Arrays.copyOf(times[i], done);
        }
        return times;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Median of the per-round ratios a[r] / b[r]: robust to load that changes between rounds. */
    static double medianRatio(double[] a, double[] b) {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < a.length; i++) {
            r.add(a[i] / b[i]);
        }
        return median(r.stream().mapToDouble(Double::doubleValue).toArray());
    }
}

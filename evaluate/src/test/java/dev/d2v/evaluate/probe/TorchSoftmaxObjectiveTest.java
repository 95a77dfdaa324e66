package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TorchSoftmaxObjectiveTest {

    /** The libtorch objective and gradient against the plain-Java one on random data, several chunks, a row subset. */
    @Test
    void matchesThePlainJavaObjectiveToFloatTolerance() {
        int n = 2 * TorchSoftmaxObjective.CHUNK + 517;
        int dims = 37;
        int classes = 7;
        Random r = new Random(21);
        float[][] x = new float[n][dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < dims; j++) {
                x[i][j] = (float) r.nextGaussian();
            }
            y[i] = r.nextInt(classes);
        }
        int[] rows = IntStream.range(0, n).filter(i -> i % 5 != 3).toArray(); // a fit subset, as the grid uses
        double[] theta = new double[SoftmaxObjective.parameterCount(classes, dims)];
        for (int j = 0; j < theta.length; j++) {
            theta[j] = 0.3 * r.nextGaussian();
        }
        ForkJoinPool pool = new ForkJoinPool(2);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            for (double lambda : new double[] {0, 1e-3, 0.5}) {
                SoftmaxObjective plain = new SoftmaxObjective(x, y, rows, classes, lambda, pool);
                TorchSoftmaxObjective torch = new TorchSoftmaxObjective(x, y, rows, classes, 0, manager).withLambda(lambda);
                double[] gPlain = new double[theta.length];
                double[] gTorch = new double[theta.length];
                double fPlain = plain.evaluate(theta, gPlain);
                double fTorch = torch.evaluate(theta, gTorch);
                assertThat(fTorch).as("loss, lambda %s", lambda).isCloseTo(fPlain, within(1e-6 * Math.abs(fPlain)));
                for (int j = 0; j < theta.length; j++) {
                    assertThat(gTorch[j]).as("d/dtheta[%d], lambda %s", j, lambda).isCloseTo(gPlain[j], within(1e-6));
                }
            }
            TorchSoftmaxObjective zero = new TorchSoftmaxObjective(x, y, rows, classes, 1.0, manager);
            double[] origin = new double[theta.length];
            assertThat(zero.evaluate(origin, new double[theta.length])).isCloseTo(Math.log(classes), within(1e-12));
        } finally {
            pool.shutdown();
        }
    }

    private static long cpu() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The timing behind the choice of backend (off by default): -Dd2v.probeTiming=true. */
    @Test
    void timing() {
        if (!Boolean.getBoolean("d2v.probeTiming")) {
            return;
        }
        int n = 54_000;
        int dims = 784;
        int classes = 10;
        Random r = new Random(1);
        float[][] x = new float[n][dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < dims; j++) {
                x[i][j] = (float) r.nextGaussian();
            }
            y[i] = r.nextInt(classes);
        }
        int[] rows = IntStream.range(0, n).toArray();
        double[] theta = new double[SoftmaxObjective.parameterCount(classes, dims)];
        double[] g = new double[theta.length];
        ForkJoinPool pool = new ForkJoinPool(2);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            SoftmaxObjective plain = new SoftmaxObjective(x, y, rows, classes, 1e-3, pool);
            for (int chunk : new int[] {256, 512, 1024, 2048, 8192, 54_000}) {
                TorchSoftmaxObjective torch = new TorchSoftmaxObjective(x, y, rows, classes, 1e-3, manager, chunk);
                System.out.println("chunk " + chunk);
                for (int rep = 0; rep < 2; rep++) {
                    long c0 = cpu();
                    long t0 = System.nanoTime();
                    plain.evaluate(theta, g);
                    long t1 = System.nanoTime();
                    long c1 = cpu();
                    for (int k = 0; k < 10; k++) {
                        torch.evaluate(theta, g);
                    }
                    long t2 = System.nanoTime();
                    long c2 = cpu();
                    System.out.printf("objective 54k x 784 x 10: plain %.3f s (cpu %.3f s), torch %.4f s (cpu %.4f s)%n",
                            (t1 - t0) / 1e9, (c1 - c0) / 1e9, (t2 - t1) / 1e10, (c2 - c1) / 1e10);
                }
            }
        } finally {
            pool.shutdown();
        }
    }
}

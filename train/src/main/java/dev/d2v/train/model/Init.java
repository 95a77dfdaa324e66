package dev.d2v.train.model;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Parameter initialisation, generated in Java from (seed, parameter name): the same model on CPU and GPU, and
 * independent of the order in which parameters are declared.
 */
public final class Init {

    /** Linear and Embedding weights N(0, 0.02^2), the BERT / fairseq initialisation data2vec 2.0 uses. */
    public static final double LINEAR_STD = 0.02;

    private final long seed;

    public Init(long seed) {
        this.seed = seed;
    }

    /** N(0, std^2) values for the named parameter. */
    public float[] normal(String name, long n, double std) {
        SplittableRandom r = random(name);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (gaussian(r) * std);
        }
        return v;
    }

    /** U(-bound, bound) values: PyTorch's Conv default is bound = 1 / sqrt(fan_in); Xavier is sqrt(6 / (in + out)). */
    public float[] uniform(String name, long n, double bound) {
        SplittableRandom r = random(name);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }

    public static float[] constant(long n, float value) {
        float[] v = new float[Math.toIntExact(n)];
        Arrays.fill(v, value);
        return v;
    }

    private SplittableRandom random(String name) {
        long h = seed ^ 0x9e3779b97f4a7c15L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new SplittableRandom(h);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; SplittableRandom has no nextGaussian on Java 17
        double u = 1 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}

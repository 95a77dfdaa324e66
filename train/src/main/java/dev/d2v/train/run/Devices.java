package dev.d2v.train.run;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/** --device and --threads for the DJL PyTorch engine. */
public final class Devices {

    private Devices() {}

    /** Sets the engine's threads (before it loads) and returns the device: --device and --threads. */
    public static Device open(String name, Integer threads) {
        configureThreads(threads);
        return parse(name);
    }

    /**
     * "cpu" or "gpu" (the first CUDA device).
     *
     * @throws IllegalArgumentException for another name, or gpu without CUDA (the message says what to do)
     */
    public static Device parse(String name) {
        Device device = switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> Device.cpu();
            case "gpu", "cuda" -> {
                if (Engine.getInstance().getGpuCount() == 0) {
                    throw new IllegalArgumentException("--device gpu: no CUDA device is visible to PyTorch. Build with the CUDA "
                            + "native library (D2V_MVN_ARGS=-Pgpu D2V_REBUILD=1 ./d2v ..., see README 'GPU') on a machine with an NVIDIA driver.");
                }
                yield Device.gpu();
            }
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, got '" + name + "'");
        };
        applyMatmulPrecision();
        return device;
    }

    /**
     * libtorch's float32 matmul precision for this process ({@link MatmulPrecision}), applied by the next
     * {@link #parse}, after the thread settings and the engine's load; null or highest keeps libtorch's default
     * without touching libtorch (or restores it if an earlier run in this process changed it).
     */
    public static void configureMatmulPrecision(MatmulPrecision precision) {
        if (precision == null || precision == MatmulPrecision.HIGHEST) {
            System.clearProperty(MatmulPrecision.PROPERTY);
        } else {
            System.setProperty(MatmulPrecision.PROPERTY, precision.id());
        }
    }

    /** " (matmul precision medium)" where a precision other than libtorch's default is configured, else "". */
    public static String matmulPrecisionNote() {
        String p = System.getProperty(MatmulPrecision.PROPERTY);
        return p == null ? "" : " (matmul precision " + p + ")";
    }

    /**
     * Applies the configured precision; loads the engine only when one was configured, and with none configured
     * restores libtorch's default if an earlier run in this process changed it.
     */
    static void applyMatmulPrecision() {
        String p = System.getProperty(MatmulPrecision.PROPERTY);
        if (p != null) {
            MatmulPrecision.parse(p).apply();
        } else {
            MatmulPrecision.restoreDefault();
        }
    }

    /**
     * Intra-op threads of the PyTorch engine; must run before the engine loads. Default: one per core (measured
     * faster than PyTorch's default on a loaded 2-core machine, see the README's Performance section).
     */
    public static void configureThreads(Integer threads) {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(n));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
}

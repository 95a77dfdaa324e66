package dev.d2v.pipelines.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.d2v.pipelines.cli.UserError;

/** --device and --threads for the DJL PyTorch engine. */
public final class Devices {

    private Devices() {}

    /** "cpu" or "gpu" (the first CUDA device); gpu without CUDA is a user error that says what to do. */
    public static Device parse(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> Device.cpu();
            case "gpu", "cuda" -> {
                if (Engine.getInstance().getGpuCount() == 0) {
                    throw new UserError("--device gpu: no CUDA device is visible to PyTorch. Build with the CUDA "
                            + "native library (D2V_MVN_ARGS=-Pgpu D2V_REBUILD=1 ./d2v ..., see README 'GPU') on a machine with an NVIDIA driver.");
                }
                yield Device.gpu();
            }
            default -> throw new UserError("--device must be cpu or gpu, got '" + name + "'");
        };
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

package dev.d2v.pipelines.cli;

import ai.djl.Device;
import dev.d2v.train.run.Devices;
import dev.d2v.train.run.MatmulPrecision;
import picocli.CommandLine.Option;

/** --device, --threads and --matmul-precision, shared by every command that runs the model (a picocli mixin). */
public final class DeviceOptions {

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu (CUDA; build with -Pgpu) (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads (default: one per core)")
    Integer threads;

    /**
     * --matmul-precision: recorded for the run's {@link Devices#parse} (picocli calls this with the default too, so a
     * command never inherits an earlier command's setting in the same process).
     */
    @Option(names = "--matmul-precision", paramLabel = "P", defaultValue = "highest",
            description = "libtorch's fp32 matmul precision: highest (fp32) or medium (bf16 inputs, fp32 sums, where "
                    + "oneDNN has bf16 kernels for this CPU: AMX) (default: ${DEFAULT-VALUE}); README 'Performance'")
    void matmulPrecision(String name) {
        Devices.configureMatmulPrecision(MatmulPrecision.parse(name));
    }

    /** Sets the engine's threads (before it loads) and returns the device. */
    public Device open() {
        Devices.configureThreads(threads);
        return Devices.parse(device);
    }

    /**
     * The same with at most maxThreads intra-op threads (the evaluator's CPU share): the default becomes
     * min(cores, maxThreads), and a larger --threads is lowered to it.
     */
    public Device open(int maxThreads) {
        Devices.configureThreads(Math.min(threads != null ? threads : Runtime.getRuntime().availableProcessors(), maxThreads));
        return Devices.parse(device);
    }

    /** --device as given: cpu or gpu. */
    public String name() {
        return device;
    }

    /** --threads as given; null = the default. */
    public Integer requestedThreads() {
        return threads;
    }
}

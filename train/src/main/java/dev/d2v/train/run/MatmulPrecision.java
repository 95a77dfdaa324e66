package dev.d2v.train.run;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * libtorch's float32 matmul precision, the setting Python reaches as {@code torch.set_float32_matmul_precision}.
 * {@link #HIGHEST} (libtorch's default) computes every fp32 matrix product in fp32 (MKL's sgemm on CPU).
 * {@link #MEDIUM} lets libtorch hand fp32 products (mm, addmm, bmm, in the forward and the backward pass) to oneDNN
 * with its bf16 math mode ("bf32"): on a processor with AVX-512 (bw, vl, dq) oneDNN rounds the inputs to bf16 where it
 * has bf16 kernels for the processor (AMX) and accumulates in fp32; where it has none it computes in fp32 with its own
 * kernels. {@link #HIGH} is TF32 on CUDA and the same as HIGHEST on CPU. The setting is process-wide.
 *
 * <p>DJL exposes neither autocast nor this setting, and its JNI bridge cannot create a bf16 array; so this class calls
 * libtorch's {@code at::globalContext().setFloat32MatmulPrecision} directly, through JNA, in the libtorch_cpu library
 * DJL loaded (its C++ symbols, Itanium ABI: Linux and macOS).
 */
public enum MatmulPrecision {
    // the order is libtorch's at::Float32MatmulPrecision {HIGHEST, HIGH, MEDIUM}: ordinal() is the value passed
    /** fp32 products (libtorch's default). */
    HIGHEST,
    /** TF32 on CUDA; fp32 on CPU. */
    HIGH,
    /** bf16 inputs with fp32 accumulation where oneDNN can (bf32 on CPU, bf16 on CUDA). */
    MEDIUM;

    /** The system property {@link Devices#configureMatmulPrecision} sets and {@link Devices#parse} applies. */
    public static final String PROPERTY = "d2v.matmul_precision";

    private static final String CONTEXT = "_ZN2at13globalContextEv";
    private static final String SET = "_ZN2at7Context25setFloat32MatmulPrecisionENS_22Float32MatmulPrecisionE";
    private static final String GET = "_ZNK2at7Context22float32MatmulPrecisionEv";

    /** highest, high or medium (libtorch's names), in any case. */
    public static MatmulPrecision parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--matmul-precision must be highest, high or medium, got '" + name + "'", e);
        }
    }

    /** libtorch's name: highest, high or medium. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Sets this precision for every later matrix product of the process; loads the engine first. */
    public void apply() {
        Native n = Native.instance();
        n.setter.invokeVoid(new Object[] {n.context, ordinal()});
    }

    /** Sets libtorch's default (highest) again if this class changed the precision before; else does nothing. */
    public static void restoreDefault() {
        if (Native.loaded()) {
            HIGHEST.apply();
        }
    }

    /** The precision libtorch uses now. */
    public static MatmulPrecision current() {
        Native n = Native.instance();
        return values()[n.getter.invokeInt(new Object[] {n.context})];
    }

    /** The global context and its two functions, looked up once. */
    private record Native(Pointer context, Function setter, Function getter) {
        private static Native instance;

        static synchronized boolean loaded() {
            return instance != null;
        }

        static synchronized Native instance() {
            if (instance == null) {
                Engine.getEngine("PyTorch");                   // loads libtorch (after the thread settings)
                Path lib = Path.of(LibUtils.getLibtorchPath(), System.mapLibraryName("torch_cpu"));
                NativeLibrary torch;
                try {
                    torch = NativeLibrary.getInstance(lib.toString());
                } catch (UnsatisfiedLinkError e) {
                    throw new IllegalStateException(
                            "cannot open " + lib + " to set the matmul precision: " + e.getMessage(), e);
                }
                Function contextOf = torch.getFunction(CONTEXT);
                instance = new Native(contextOf.invokePointer(new Object[0]), torch.getFunction(SET),
                        torch.getFunction(GET));
            }
            return instance;
        }
    }
}

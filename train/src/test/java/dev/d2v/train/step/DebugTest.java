package dev.d2v.train.step;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DebugTest {
    static void dump(String tag, Trainer t) {
        for (String n : new String[] {"blocks.0.attn.qkv.weight", "blocks.3.mlp.fc2.weight", "image.patch_embed.weight", "blocks.3.norm2.weight"}) {
            NDArray s = t.student().get(n);
            NDArray te = t.teacher().get(n);
            System.out.println(tag + " " + n + " student " + s.abs().mean().getFloat() + " teacher " + te.abs().mean().getFloat()
                + " grad? " + s.hasGradient());
        }
    }
    @Test
    void debug() {
        try (Trainer t = new Trainer(TrainerTest.small(), Device.cpu(), 7)) {
            dump("init", t);
            System.out.println(t.step(SyntheticBatches.image(8, 1, 28, 0)));
            dump("after0", t);
            System.out.println(t.step(SyntheticBatches.image(8, 1, 28, 1)));
            dump("after1", t);
        }
    }
}

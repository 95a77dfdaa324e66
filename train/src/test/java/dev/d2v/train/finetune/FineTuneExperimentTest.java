package dev.d2v.train.finetune;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.Encoder;
import dev.d2v.train.step.SyntheticBatches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FineTuneExperimentTest {
    @Test
    void cpuPresetTiming() {
        List<Minibatch> train = new ArrayList<>();
        List<Minibatch> test = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Minibatch b = SyntheticBatches.image(64, 1, 28, i);
            int[] y = new int[64];
            for (int k = 0; k < 64; k++) y[k] = k % 10;
            train.add(Minibatch.builder(Modality.IMAGE, 64, 1, 28, 28).sampleIds(b.sampleIds()).labels(y).payload(b.dtype(), b.payload()));
        }
        test.add(train.get(0));
        try (Encoder encoder = Encoder.randomInit(Data2VecConfig.cpu(), 3, Device.cpu())) {
            for (int bs : new int[] {32, 64, 32}) {
                FineTune.Config c = FineTune.Config.defaults().withSteps(8).withBatchSize(bs);
                FineTune.Result r = FineTune.run(encoder, Modality.IMAGE, train, test, 10, c);
                System.err.printf("bs %d: 8 steps + test of 64: %.1fs threads %s%n", bs, r.seconds(), ai.djl.engine.Engine.getInstance().getEngineName());
            }
        }
    }
}

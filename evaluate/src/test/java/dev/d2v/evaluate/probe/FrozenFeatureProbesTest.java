package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrozenFeatureProbesTest {
    @Test
    void linearAndKnnResultsWithTheirSettings() {
        Synthetic.Task train = Synthetic.blobs(600, 12, 3, 10, 1, 1);
        Synthetic.Task test = Synthetic.blobs(300, 12, 3, 10, 1, 2);
        List<EvalResult> rs = FrozenFeatureProbes.run("step-000000100", 100, Modality.AUDIO, "spoken-digits",
                new FeatureSet(train.x(), train.y()), new FeatureSet(test.x(), test.y()), 3, FrozenFeatureProbes.Config.defaults());
        assertThat(rs).extracting(EvalResult::protocol).containsExactly(Protocol.LINEAR, Protocol.KNN);
        assertThat(rs).extracting(EvalResult::accuracy).containsOnly(1.0);
        assertThat(rs).allSatisfy(r -> assertThat(r.hasBaseline()).isFalse());
        assertThat(rs.get(0).extras()).containsKeys("l2", "iterations", "train_accuracy", "fit_s", "train_rows", "test_rows", "dims");
        assertThat(rs.get(1).extras()).containsEntry("k", 20.0).containsEntry("train_rows", 600.0).containsKey("centred_accuracy");
        assertThat(rs.get(0).withBaseline(0.4).baselineAccuracy()).isEqualTo(0.4);
    }
}

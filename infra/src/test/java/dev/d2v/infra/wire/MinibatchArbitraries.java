package dev.d2v.infra.wire;

import dev.d2v.infra.Modality;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Random minibatches for property tests: every modality x dtype, shapes of rank 1..4, unicode ids. */
final class MinibatchArbitraries {
    private MinibatchArbitraries() {
    }

    static Arbitrary<Minibatch> minibatches() {
        return minibatches(Arbitraries.of(Modality.class), Arbitraries.of(DType.class));
    }

    static Arbitrary<Minibatch> minibatches(Arbitrary<Modality> modalities, Arbitrary<DType> dtypes) {
        Arbitrary<int[]> shapes = Arbitraries.integers().between(1, 5).list().ofMinSize(1).ofMaxSize(4)
                .map(l -> l.stream().mapToInt(Integer::intValue).toArray());
        Arbitrary<String> ids = Arbitraries.strings().withCharRange(' ', '~').withCharRange('\u00e0', '\u00ff')
                .withChars("日本語").ofMaxLength(16)
                .map(s -> s.length() % 3 == 1 ? s + "\uD83D\uDE42" : s); // sometimes a supplementary char (emoji)
        return Combinators.combine(modalities, dtypes, shapes, Arbitraries.longs(), Arbitraries.longs(),
                        Arbitraries.of(true, false), Arbitraries.of(true, false), Arbitraries.longs())
                .flatAs((modality, dtype, shape, configHash, createdAt, partial, labeled, seed) ->
                        ids.list().ofSize(shape[0]).map(idList ->
                                build(modality, dtype, shape, idList, configHash, createdAt, partial, labeled, seed)));
    }

    /** Payload, valid lengths and labels from a seeded Random, so a failing case shrinks and replays. */
    static Minibatch build(Modality modality, DType dtype, int[] shape, List<String> ids, long configHash,
                           long createdAt, boolean partial, boolean labeled, long seed) {
        Random rnd = new Random(seed);
        int b = shape[0];
        int maxValid = shape.length >= 2 ? shape[1] : 1;
        int[] valid = new int[b];
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) {
            valid[i] = rnd.nextInt(maxValid + 1);
            labels[i] = rnd.nextInt(12) - 1; // -1 = unlabeled sample
        }
        byte[] payload = new byte[(int) Minibatch.payloadBytes(shape, dtype)];
        rnd.nextBytes(payload); // any bit pattern, NaN payloads included: the codec must carry them unchanged
        return new Minibatch(modality, dtype, shape, new ArrayList<>(ids), valid, labeled ? labels : null, partial,
                configHash, createdAt, payload);
    }

    /** A fixed mid-sized batch for byte-level corruption tests. */
    static Minibatch sample(DType dtype) {
        return build(Modality.AUDIO, dtype, new int[] {2, 3, 2}, List.of("a/1", "b/日本"), 0x1234_5678_9abc_def0L,
                1_700_000_000_000L, true, true, 42);
    }
}

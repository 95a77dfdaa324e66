package dev.d2v.evaluate.follow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.evaluate.follow.CheckpointFollower.Action;
import dev.d2v.evaluate.follow.CheckpointFollower.Outcome;
import dev.d2v.evaluate.follow.FollowerState.Status;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The follower with a fake Evaluator (our own callback interface) and a real state file. */
class CheckpointFollowerTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-28T21:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private static CheckpointEvent checkpoint(long step) {
        return new CheckpointEvent(String.format("step-%09d", step), step, Map.of("image", step * 256),
                Map.of("d2v.batch.image:0", step), "/ckpt/" + step, 0xabcdefL, Instant.parse("2026-11-28T20:00:00Z"));
    }

    /** Records the steps it was asked for; refuses the ids in {@code refuse}; interrupts on {@code interruptAt}. */
    private static final class FakeEvaluator implements Evaluator {
        final List<Long> calls = new ArrayList<>();
        final Set<String> refuse = new HashSet<>();
        String interruptAt;
        /** Fails this many of its calls as if Kafka were gone while publishing. */
        int unavailable;

        @Override
        public List<EvalResult> evaluate(CheckpointEvent c) throws Exception {
            calls.add(c.step());
            if (c.checkpointId().equals(interruptAt)) {
                throw new InterruptedException("stopped");
            }
            if (unavailable > 0) {
                unavailable--;
                throw new KafkaUnavailableException("could not publish to d2v.eval: no acknowledgement",
                        new TimeoutException());
            }
            if (refuse.contains(c.checkpointId())) {
                throw new IllegalStateException("corrupt checkpoint " + c.checkpointId() + ": manifest CRC32C mismatch",
                        new IOException("student.safetensors: 12 bytes short"));
            }
            return List.of(new EvalResult(c.checkpointId(), c.step(), Modality.IMAGE, "fashion-mnist", Protocol.LINEAR,
                    Math.min(1, 0.5 + c.step() / 1e5), 0.5, Map.of()));
        }
    }

    private CheckpointFollower follower(FakeEvaluator evaluator, FollowPolicy policy, List<Outcome> seen) throws IOException {
        return new CheckpointFollower(evaluator, FollowerState.load(dir.resolve("follower.json")), policy, seen::add, CLOCK);
    }

    @Test
    void eachEvaluatesEveryNewCheckpointInStepOrderOnce() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        List<Outcome> seen = new ArrayList<>();
        CheckpointFollower f = follower(evaluator, FollowPolicy.EACH, seen);
        List<Outcome> out = f.handle(List.of(checkpoint(3000), checkpoint(1000), checkpoint(2000), checkpoint(1000)));
        assertThat(evaluator.calls).containsExactly(1000L, 2000L, 3000L);
        assertThat(out).extracting(Outcome::action).containsOnly(Action.EVALUATED);
        assertThat(out.get(0).results()).singleElement().extracting(EvalResult::step).isEqualTo(1000L);
        assertThat(seen).isEqualTo(out);

        // redelivered after a restart: nothing is evaluated again
        CheckpointFollower restarted = follower(evaluator, FollowPolicy.EACH, new ArrayList<>());
        List<Outcome> again = restarted.handle(List.of(checkpoint(2000), checkpoint(4000)));
        assertThat(evaluator.calls).containsExactly(1000L, 2000L, 3000L, 4000L);
        assertThat(again).extracting(Outcome::action).containsExactly(Action.ALREADY_HANDLED, Action.EVALUATED);
        assertThat(restarted.state().get("step-000002000")).get().extracting(FollowerState.Entry::status).isEqualTo(Status.DONE);
    }

    @Test
    void newestEvaluatesOnlyTheNewestWhenBehind() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        CheckpointFollower f = follower(evaluator, FollowPolicy.NEWEST, new ArrayList<>());
        List<Outcome> out = f.handle(List.of(checkpoint(1000), checkpoint(2000), checkpoint(3000)));
        assertThat(evaluator.calls).containsExactly(3000L);
        assertThat(out).extracting(Outcome::action)
                .containsExactly(Action.SUPERSEDED, Action.SUPERSEDED, Action.EVALUATED);
        assertThat(out.get(0).reason()).isEqualTo("superseded by step-000003000 (step 3000)");

        // a late, older event is not evaluated either; a newer one alone is
        List<Outcome> late = f.handle(List.of(checkpoint(2500)));
        assertThat(late).singleElement().extracting(Outcome::action).isEqualTo(Action.SUPERSEDED);
        assertThat(late.get(0).reason()).contains("older than step 3000");
        f.handle(List.of(checkpoint(4000)));
        assertThat(evaluator.calls).containsExactly(3000L, 4000L);
        assertThat(FollowerState.load(dir.resolve("follower.json")).get("step-000001000")).get()
                .extracting(FollowerState.Entry::status).isEqualTo(Status.SUPERSEDED);
    }

    @Test
    void rejectedCheckpointIsSkippedWithItsReasonAndTheFollowerGoesOn() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        evaluator.refuse.add("step-000002000");
        CheckpointFollower f = follower(evaluator, FollowPolicy.EACH, new ArrayList<>());
        List<Outcome> out = f.handle(List.of(checkpoint(1000), checkpoint(2000), checkpoint(3000)));
        assertThat(out).extracting(Outcome::action).containsExactly(Action.EVALUATED, Action.REJECTED, Action.EVALUATED);
        String reason = out.get(1).reason();
        assertThat(reason).isEqualTo("corrupt checkpoint step-000002000: manifest CRC32C mismatch (IllegalStateException); "
                + "cause: student.safetensors: 12 bytes short");

        String file = Files.readString(dir.resolve("follower.json"));
        assertThat(file).contains("\"status\" : \"rejected\"", "manifest CRC32C mismatch");
        // a restart does not retry it
        FakeEvaluator fresh = new FakeEvaluator();
        List<Outcome> again = follower(fresh, FollowPolicy.EACH, new ArrayList<>()).handle(List.of(checkpoint(2000)));
        assertThat(fresh.calls).isEmpty();
        assertThat(again).singleElement().extracting(Outcome::action).isEqualTo(Action.ALREADY_HANDLED);
    }

    @Test
    void kafkaGoneWhilePublishingLeavesTheCheckpointStartedNotRejectedAndItIsEvaluatedAgain() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        evaluator.unavailable = 1;
        List<Outcome> seen = new ArrayList<>();
        CheckpointFollower f = follower(evaluator, FollowPolicy.EACH, seen);
        assertThatThrownBy(() -> f.handle(List.of(checkpoint(1000)))).isInstanceOf(KafkaUnavailableException.class);
        assertThat(f.state().get("step-000001000")).get().extracting(FollowerState.Entry::status).isEqualTo(Status.STARTED);
        assertThat(seen).as("no outcome: neither evaluated nor rejected").isEmpty();
        // what the follow loop does next, once Kafka answers again
        assertThat(f.resume()).singleElement().extracting(Outcome::action).isEqualTo(Action.EVALUATED);
        assertThat(f.state().get("step-000001000")).get().extracting(FollowerState.Entry::status).isEqualTo(Status.DONE);
        assertThat(evaluator.calls).containsExactly(1000L, 1000L);
    }

    @Test
    void interruptedEvaluationResumesOnTheNextStart() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        evaluator.interruptAt = "step-000002000";
        CheckpointFollower f = follower(evaluator, FollowPolicy.EACH, new ArrayList<>());
        assertThatThrownBy(() -> f.handle(List.of(checkpoint(1000), checkpoint(2000), checkpoint(3000))))
                .isInstanceOf(InterruptedException.class);
        assertThat(evaluator.calls).containsExactly(1000L, 2000L); // stopped there

        FollowerState state = FollowerState.load(dir.resolve("follower.json"));
        assertThat(state.interrupted()).singleElement().extracting(e -> e.event().checkpointId()).isEqualTo("step-000002000");
        FakeEvaluator next = new FakeEvaluator();
        List<Outcome> seen = new ArrayList<>();
        CheckpointFollower restarted = new CheckpointFollower(next, state, FollowPolicy.EACH, seen::add, CLOCK);
        List<Outcome> resumed = restarted.resume(); // from the state file alone, before any event arrives
        assertThat(resumed).singleElement().satisfies(o -> {
            assertThat(o.action()).isEqualTo(Action.EVALUATED);
            assertThat(o.resumed()).isTrue();
            assertThat(o.checkpoint()).isEqualTo(checkpoint(2000)); // the event came back from the state file intact
        });
        List<Outcome> rest = restarted.handle(List.of(checkpoint(1000), checkpoint(2000), checkpoint(3000)));
        assertThat(rest).extracting(Outcome::action)
                .containsExactly(Action.ALREADY_HANDLED, Action.ALREADY_HANDLED, Action.EVALUATED);
        assertThat(next.calls).containsExactly(2000L, 3000L);
    }

    @Test
    void listenerFailureLeavesTheCheckpointToBeEvaluatedAgain() throws Exception {
        FakeEvaluator evaluator = new FakeEvaluator();
        CheckpointFollower f = new CheckpointFollower(evaluator, FollowerState.load(dir.resolve("follower.json")),
                FollowPolicy.EACH, o -> {
                    throw new IllegalStateException("broker down");
                }, CLOCK);
        assertThatThrownBy(() -> f.handle(List.of(checkpoint(1000)))).hasMessageContaining("broker down");
        assertThat(FollowerState.load(dir.resolve("follower.json")).interrupted()).hasSize(1);
    }

    @Test
    void unreadableStateIsMovedAsideAndStartsAfresh() throws Exception {
        Path file = dir.resolve("follower.json");
        Files.writeString(file, "{\"version\": 1, \"kind\": \"follower-state\", \"checkpoints\": {\"x\": ");
        FollowerState state = FollowerState.load(file);
        assertThat(state.entries()).isEmpty();
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).singleElement().asString().startsWith("follower.json.corrupt-");
        }
        Files.writeString(file, "{\"version\": 9, \"kind\": \"follower-state\", \"checkpoints\": {}}");
        assertThat(FollowerState.load(file).entries()).isEmpty();
        assertThat(FollowPolicy.parse(" Newest ")).isEqualTo(FollowPolicy.NEWEST);
        assertThatThrownBy(() -> FollowPolicy.parse("all")).hasMessageContaining("expected each or newest");
    }
}

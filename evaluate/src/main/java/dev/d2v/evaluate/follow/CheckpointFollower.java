package dev.d2v.evaluate.follow;

import dev.d2v.evaluate.follow.FollowerState.Status;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.CheckpointEvent;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which checkpoints to evaluate and keeps track of them; no Kafka and no model code. The caller polls
 * d2v.checkpoints and hands each poll's events to {@link #handle}; the {@link Evaluator} does the work.
 * <ul>
 *   <li>A checkpoint already done, rejected or superseded (by id, from the {@link FollowerState}) is skipped:
 *       redelivered events and restarts repeat nothing.</li>
 *   <li>{@link FollowPolicy#EACH} evaluates every new checkpoint in step order; {@link FollowPolicy#NEWEST}, when
 *       several wait, only the newest, recording the others as superseded.</li>
 *   <li>Before the evaluator runs, the checkpoint is recorded as started; a run that stops midway (kill, crash)
 *       leaves it so, and {@link #resume()} evaluates it again on the next start.</li>
 *   <li>An evaluator that throws refuses the checkpoint: the reason is logged and recorded, and the follower goes
 *       on. {@link InterruptedException} stops the follower instead (the checkpoint stays started).</li>
 * </ul>
 */
public final class CheckpointFollower {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

    /** What became of one checkpoint event. */
    public enum Action {
        /** evaluated now; {@link Outcome#results()} holds the figures */
        EVALUATED,
        /** the evaluator refused it; {@link Outcome#reason()} */
        REJECTED,
        /** a newer checkpoint was waiting (NEWEST policy); {@link Outcome#reason()} names it */
        SUPERSEDED,
        /** seen before with a final status: nothing done */
        ALREADY_HANDLED
    }

    /**
     * @param checkpoint the event
     * @param action     what was done
     * @param reason     rejection or supersession reason; empty otherwise
     * @param results    the evaluation's results (EVALUATED only)
     * @param resumed    whether this evaluation resumed one an earlier run had started
     */
    public record Outcome(CheckpointEvent checkpoint, Action action, String reason, List<EvalResult> results, boolean resumed) {
        public Outcome {
            results = List.copyOf(results);
        }
    }

    private final Evaluator evaluator;
    private final FollowerState state;
    private final FollowPolicy policy;
    private final Consumer<Outcome> listener;
    private final Clock clock;

    /**
     * @param listener told about every outcome as it happens (publish results, rebuild the report, print a line)
     */
    public CheckpointFollower(Evaluator evaluator, FollowerState state, FollowPolicy policy, Consumer<Outcome> listener,
                              Clock clock) {
        this.evaluator = evaluator;
        this.state = state;
        this.policy = policy;
        this.listener = listener;
        this.clock = clock;
    }

    public FollowerState state() {
        return state;
    }

    /** Evaluates the checkpoints an earlier run started and did not finish, oldest first. */
    public List<Outcome> resume() throws IOException, InterruptedException {
        List<Outcome> out = new ArrayList<>();
        for (FollowerState.Entry e : state.interrupted()) {
            LOG.info("resuming the interrupted evaluation of {} (step {})", e.event().checkpointId(), e.event().step());
            out.add(evaluate(e.event(), true));
        }
        return out;
    }

    /**
     * Handles one poll's worth of checkpoint events (any order, duplicates allowed) and returns what became of
     * each distinct checkpoint, in the order handled.
     */
    public List<Outcome> handle(List<CheckpointEvent> events) throws IOException, InterruptedException {
        Plan plan = plan(events, state, policy);
        List<Outcome> out = new ArrayList<>();
        for (CheckpointEvent e : plan.alreadyHandled()) {
            out.add(emit(new Outcome(e, Action.ALREADY_HANDLED, "", List.of(), false)));
        }
        for (Map.Entry<CheckpointEvent, String> s : plan.superseded().entrySet()) {
            state.record(s.getKey(), Status.SUPERSEDED, clock.instant(), s.getValue(), 0);
            LOG.info("skipping {} (step {}): {}", s.getKey().checkpointId(), s.getKey().step(), s.getValue());
            out.add(emit(new Outcome(s.getKey(), Action.SUPERSEDED, s.getValue(), List.of(), false)));
        }
        for (CheckpointEvent e : plan.evaluate()) {
            boolean resumed = state.get(e.checkpointId()).map(x -> x.status() == Status.STARTED).orElse(false);
            out.add(evaluate(e, resumed));
        }
        return out;
    }

    /**
     * The follow loop: resumes interrupted evaluations, then polls, handles and commits until {@code keepGoing}
     * turns false or the thread is interrupted. Offsets are committed only after a poll's events were handled.
     */
    public void run(CheckpointEventSource source, BooleanSupplier keepGoing, Duration pollTimeout)
            throws IOException, InterruptedException {
        boolean resumePending = true;
        long backoffMs = FIRST_BACKOFF_MS;
        while (keepGoing.getAsBoolean()) {
            if (Thread.interrupted()) {
                throw new InterruptedException("checkpoint follower interrupted");
            }
            try {
                if (resumePending) {
                    resume();
                    resumePending = false;
                }
                CheckpointEventSource.Poll poll = source.poll(pollTimeout);
                if (!poll.events().isEmpty()) {
                    handle(poll.events());
                }
                if (!poll.events().isEmpty() || !poll.malformed().isEmpty()) {
                    source.commit();
                }
                backoffMs = FIRST_BACKOFF_MS;
            } catch (KafkaUnavailableException e) {
                // the checkpoint in hand stays STARTED; the next round evaluates it again (a redelivered event of
                // one already DONE is skipped by the state)
                LOG.warn("Kafka is unavailable ({}); retrying in {} s", e.getMessage(), backoffMs / 1000);
                resumePending = true;
                Thread.sleep(backoffMs);
                backoffMs = Math.min(MAX_BACKOFF_MS, 2 * backoffMs);
            }
        }
    }

    /** Waits between attempts while Kafka is unavailable: 5 s, doubling to at most a minute. */
    static final long FIRST_BACKOFF_MS = 5_000;
    static final long MAX_BACKOFF_MS = 60_000;

    /**
     * The decision, a pure function of the events, the state and the policy.
     *
     * @param evaluate       to evaluate, in step order
     * @param superseded     to skip, with the reason
     * @param alreadyHandled seen before with a final status
     */
    record Plan(List<CheckpointEvent> evaluate, Map<CheckpointEvent, String> superseded, List<CheckpointEvent> alreadyHandled) {
    }

    static Plan plan(List<CheckpointEvent> events, FollowerState state, FollowPolicy policy) {
        Map<String, CheckpointEvent> distinct = new LinkedHashMap<>();
        events.forEach(e -> distinct.put(e.checkpointId(), e)); // a redelivered event: the last copy counts
        List<CheckpointEvent> handled = new ArrayList<>();
        List<CheckpointEvent> pending = new ArrayList<>();
        for (CheckpointEvent e : distinct.values()) {
            boolean done = state.get(e.checkpointId()).map(x -> x.status().isFinal()).orElse(false);
            (done ? handled : pending).add(e);
        }
        pending.sort(Comparator.comparingLong(CheckpointEvent::step).thenComparing(CheckpointEvent::checkpointId));
        Map<CheckpointEvent, String> superseded = new LinkedHashMap<>();
        if (policy == FollowPolicy.NEWEST && !pending.isEmpty()) {
            CheckpointEvent newest = pending.get(pending.size() - 1);
            OptionalLong doneStep = state.newestDoneStep();
            for (CheckpointEvent e : pending.subList(0, pending.size() - 1)) {
                superseded.put(e, "superseded by " + newest.checkpointId() + " (step " + newest.step() + ")");
            }
            if (doneStep.isPresent() && newest.step() < doneStep.getAsLong()) {
                superseded.put(newest, "older than step " + doneStep.getAsLong() + ", already evaluated");
            }
            pending = superseded.containsKey(newest) ? List.of() : List.of(newest);
        }
        return new Plan(pending, superseded, handled);
    }

    private Outcome evaluate(CheckpointEvent e, boolean resumed) throws IOException, InterruptedException {
        state.record(e, Status.STARTED, clock.instant(), "", 0);
        List<EvalResult> results;
        try {
            results = evaluator.evaluate(e);
        } catch (InterruptedException ie) {
            throw ie; // stays STARTED: resumed on the next start
        } catch (KafkaUnavailableException unavailable) {
            throw unavailable; // stays STARTED: not the checkpoint's fault, evaluated again when Kafka is back
        } catch (Exception ex) {
            String reason = reason(ex);
            LOG.warn("checkpoint {} (step {}) refused: {}", e.checkpointId(), e.step(), reason);
            state.record(e, Status.REJECTED, clock.instant(), reason, 0);
            return emit(new Outcome(e, Action.REJECTED, reason, List.of(), resumed));
        }
        results = results == null ? List.of() : results;
        // the listener (publish, results file, report) runs before DONE is recorded: if it fails or the process
        // stops in between, the checkpoint stays STARTED and is evaluated again (at least once, never lost)
        Outcome o = emit(new Outcome(e, Action.EVALUATED, "", results, resumed));
        state.record(e, Status.DONE, clock.instant(), "", results.size());
        LOG.info("checkpoint {} (step {}) evaluated: {} result(s){}", e.checkpointId(), e.step(), results.size(),
                resumed ? " (resumed)" : "");
        return o;
    }

    private Outcome emit(Outcome o) {
        listener.accept(o);
        return o;
    }

    /** "message (ExceptionClass)", plus the root cause when it differs. */
    static String reason(Throwable t) {
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage() + " (" + t.getClass().getSimpleName() + ")";
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != t && root.getMessage() != null && !msg.contains(root.getMessage())) {
            msg += "; cause: " + root.getMessage();
        }
        return msg;
    }
}

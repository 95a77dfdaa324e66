package dev.d2v.pipelines.ablate;

import dev.d2v.evaluate.EvaluationRunner;
import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.Devices;
import dev.d2v.train.run.PretrainRunner;
import dev.d2v.train.run.PretrainSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * An ablation sweep: for each run of the {@link AblationPlan} (variant by variant, seed by seed), pretraining through
 * {@link PretrainRunner} under the sweep's budget, then every checkpoint it kept evaluated through
 * {@link EvaluationRunner}, each figure appended to {@code <out>/ablation.jsonl}; the page {@code ablation.html} is
 * rebuilt after each run and the summary table printed at the end.
 *
 * <pre>
 * settings ──► AblationPlan (every config built: a bad key fails before anything runs) ──► run folders checked
 * per run: RunState ──► PretrainRunner (resumes from its newest checkpoint) ──► RunState.pretrained
 *          checkpoints/ ──► not yet in ablation.jsonl? ──► results on file, else EvaluationRunner ──► append lines
 * ablation.jsonl ──► AblationReport ──► ablation.html, the table
 * </pre>
 *
 * Resumable at every point: a run whose state says pretrained and whose checkpoints all have their lines is skipped
 * without loading anything; an interrupted pretraining resumes from its newest checkpoint; a checkpoint whose
 * results the evaluator recorded but whose lines were not appended gets its lines from the results file.
 */
public final class AblationRunner {

    public static final String LINES = "ablation.jsonl";
    public static final String PAGE = "ablation.html";
    /** Every checkpoint of a run is evaluated, so none is pruned. */
    static final int KEEP_ALL = 10_000;

    /**
     * How a call ended.
     *
     * @param plan       the runs
     * @param trained    runs that trained in this call
     * @param evaluated  checkpoints evaluated in this call
     * @param stopped    the stop flag ended it before the last run was done
     * @param lines      every line of ablation.jsonl after it
     */
    public record Outcome(AblationPlan plan, int trained, int evaluated, boolean stopped, List<AblationLine> lines) {}

    private final PrintStream out;
    private final PrintStream log;

    /**
     * @param out the summary table
     * @param log progress lines, and the pretraining's and the evaluation's own
     */
    public AblationRunner(PrintStream out, PrintStream log) {
        this.out = out;
        this.log = log;
    }

    /**
     * Runs what is not done yet.
     *
     * @param stop polled between steps, runs and checkpoints: true ends the sweep after the current step (with a
     *             checkpoint) or evaluation; a second call resumes
     * @throws IllegalArgumentException for a bad override or a run folder that other settings made, before any run
     */
    public Outcome run(AblationSettings s, BooleanSupplier stop) throws IOException, InterruptedException {
        AblationPlan plan = AblationPlan.of(s);
        Map<Path, RunState> states = states(s, plan);
        Path linesFile = s.out().resolve(LINES);
        List<String> problems = new ArrayList<>();
        List<AblationLine> lines = new ArrayList<>(AblationLine.readAll(linesFile, problems));
        problems.forEach(p -> log.println("ablate: " + p));
        Set<String> recorded = lines.stream().map(AblationLine::key).collect(Collectors.toCollection(HashSet::new));
        int n = plan.runs().size();
        log.printf("ablate: %d run(s) (%d variant(s) x %d seed(s)), %s each; results in %s%n", n,
                n / s.seeds().size(), s.seeds().size(), budget(s), s.out().toAbsolutePath());

        EvaluationRunner evaluator = null;
        int trained = 0;
        int evaluated = 0;
        boolean stopped = false;
        for (AblationPlan.Run run : plan.runs()) {
            String at = String.format(Locale.ROOT, "ablate [%d/%d] %s", run.number(), n, run.label());
            RunState state = states.get(run.folder());
            if (!state.pretrained()) {
                log.println(at + ": pretraining in " + run.folder());
                state = pretrain(s, run, state, stop, at);
                trained++;
                if (!state.pretrained()) {
                    stopped = true;
                    break;
                }
            }
            List<CheckpointStore.Entry> checkpoints = new ArrayList<>(CheckpointStore.list(run.folder().resolve("checkpoints")));
            checkpoints.sort((a, b) -> Long.compare(a.step(), b.step()));
            TrainingTime time = TrainingTime.read(run.folder().resolve("metrics.jsonl"));
            int done = 0;
            for (int k = 0; k < checkpoints.size(); k++) {
                CheckpointStore.Entry cp = checkpoints.get(k);
                if (covers(lines.stream().filter(l -> l.run().equals(run.folder().getFileName().toString())
                        && l.result().step() == cp.step()).map(AblationLine::result).toList(), s)) {
                    done++;
                    continue;
                }
                if (stop.getAsBoolean()) {
                    stopped = true;
                    break;
                }
                log.printf("%s: evaluating step %d (checkpoint %d of %d)%n", at, cp.step(), k + 1, checkpoints.size());
                List<EvalResult> results = recordedResults(run, cp.step(), s);
                if (results == null) {
                    if (evaluator == null) {
                        evaluator = evaluator(s);
                    }
                    results = evaluator.evaluate(cp.folder());
                    evaluated++;
                }
                List<AblationLine> fresh = new ArrayList<>();
                for (EvalResult r : results) {
                    AblationLine l = new AblationLine(run.variant().name(), run.variant().assignments(), run.seed(),
                            run.folder().getFileName().toString(), time.minutesUntil(cp.step()), r);
                    if (recorded.add(l.key())) {
                        fresh.add(l);
                    }
                }
                AblationLine.append(linesFile, fresh);
                lines.addAll(fresh);
                log.printf("%s: step %d, %.2f min of training: %s%n", at, cp.step(), time.minutesUntil(cp.step()),
                        describe(results));
            }
            if (stopped) {
                break;
            }
            if (done == checkpoints.size() && state.pretrained()) {
                log.printf("%s: done earlier (%d checkpoint(s) evaluated)%n", at, done);
            }
            page(s, lines, problems);
        }
        page(s, lines, problems);
        if (stopped) {
            log.println("ablate: stopped; run the same command again to resume");
        }
        out.print(AblationReport.terminalTable(lines));
        out.println("lines: " + linesFile.toAbsolutePath() + "\npage: " + s.out().resolve(PAGE).toAbsolutePath());
        return new Outcome(plan, trained, evaluated, stopped, List.copyOf(lines));
    }

    /**
     * Each run's state: the one on file, else a new one (written, so that the folder is claimed). A folder whose
     * state holds other settings is refused before anything runs.
     */
    private static Map<Path, RunState> states(AblationSettings s, AblationPlan plan) throws IOException {
        Map<Path, RunState> out = new HashMap<>();
        for (AblationPlan.Run run : plan.runs()) {
            RunState fresh = RunState.start(s, run);
            RunState known = RunState.read(run.folder()).orElse(null);
            if (known != null && !known.settings().equals(fresh.settings())) {
                throw new IllegalArgumentException("the run folder " + run.folder() + " holds a run with other settings ("
                        + known.settings() + "; now " + fresh.settings() + "): use another --out, or delete the folder");
            }
            out.put(run.folder(), known != null ? known : fresh);
        }
        // claims the new folders, once every folder was checked
        for (AblationPlan.Run run : plan.runs()) {
            if (RunState.read(run.folder()).isEmpty()) {
                out.get(run.folder()).write(run.folder());
            }
        }
        return out;
    }

    /**
     * Pretrains one run to its budget: with a step budget in one call (a checkpoint every target / checkpoints steps),
     * with a time budget in {@link AblationSettings#checkpoints} calls of an equal share of it, each ending with a
     * checkpoint. Returns the state after it; not pretrained when the stop flag ended it.
     */
    private RunState pretrain(AblationSettings s, AblationPlan.Run run, RunState state, BooleanSupplier stop, String at)
            throws IOException, InterruptedException {
        long target = run.targetStep(s.steps(), s.timeBudget(), s.scheduleSteps());
        PretrainRunner pretrainer = new PretrainRunner(log);
        if (s.timeBudget() == null) {
            long every = (target + s.checkpoints() - 1) / s.checkpoints();
            pretrainer.run(pretrainSettings(s, run, null, every), stop);
            if (stop.getAsBoolean()) {
                return state;
            }
            state = state.withPretrained();
            state.write(run.folder());
            return state;
        }
        Duration part = s.timeBudget().dividedBy(s.checkpoints());
        while (!state.pretrained()) {
            int k = state.chunksDone() + 1;
            log.printf(Locale.ROOT, "%s: pretraining part %d of %d (%.2f min%s)%n", at, k, s.checkpoints(),
                    part.toMillis() / 60_000.0, target == Long.MAX_VALUE ? "" : ", or until step " + target);
            PretrainRunner.Result r = pretrainer.run(pretrainSettings(s, run, part, 0), stop);
            if (stop.getAsBoolean()) {
                return state;
            }
            state = state.withChunksDone(k);
            if (k >= s.checkpoints() || r.step() >= target) {
                state = state.withPretrained();
            }
            state.write(run.folder());
        }
        return state;
    }

    private static PretrainSettings pretrainSettings(AblationSettings s, AblationPlan.Run run, Duration budget, long every) {
        String described = Data2VecConfig.describe(run.preset(), run.overrides());
        return new PretrainSettings(s.modality(), s.data(), s.dataContext(), s.limit(), s.batchSize(), run.config(),
                described, run.transforms(), s.steps(), s.scheduleSteps(), budget, budget == null ? null : s.timeBudget(),
                run.folder(), s.device(), s.threads(), run.seed(), every,
                KEEP_ALL, run.variant().initFrom());
    }

    /** One evaluator for the whole sweep (each run's results go to its own eval/ folder); its table is not printed. */
    private EvaluationRunner evaluator(AblationSettings s) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new EvaluationRunner(s.evaluation(), s.dataContext(),
                max -> Devices.open(s.device(), Math.min(s.threads() != null ? s.threads() : cores, max)),
                new PrintStream(OutputStream.nullOutputStream()), line -> log.println("  " + line));
    }

    /**
     * The results the evaluator already recorded for this checkpoint ({@code <run>/eval/results}), when they cover
     * what the sweep asks for; else null.
     */
    private static List<EvalResult> recordedResults(AblationPlan.Run run, long step, AblationSettings s) throws IOException {
        List<String> problems = new ArrayList<>();
        List<EvalResult> onFile = ResultsFile.readAll(run.folder().resolve("eval").resolve("results"), problems).stream()
                .filter(r -> r.step() == step).toList();
        return covers(onFile, s) ? onFile : null;
    }

    /** Whether results hold every protocol the sweep asks for on as many tasks as it names. */
    static boolean covers(Collection<EvalResult> results, AblationSettings s) {
        Set<Protocol> wanted = protocols(s);
        Map<String, Set<Protocol>> byTask = new HashMap<>();
        results.forEach(r -> byTask.computeIfAbsent(r.task(), k -> EnumSet.noneOf(Protocol.class)).add(r.protocol()));
        long complete = byTask.values().stream().filter(p -> p.containsAll(wanted)).count();
        return complete >= s.evaluation().tasks().size();
    }

    static Set<Protocol> protocols(AblationSettings s) {
        return s.evaluation().finetune() != null ? EnumSet.of(Protocol.LINEAR, Protocol.KNN, Protocol.FINETUNE)
                : EnumSet.of(Protocol.LINEAR, Protocol.KNN);
    }

    private static String describe(List<EvalResult> results) {
        return results.stream().map(r -> String.format(Locale.ROOT, "%s %s %s (random init %s)", r.task(),
                r.protocol().id(), AblationReport.percent(r.accuracy()), AblationReport.percent(r.baselineAccuracy())))
                .collect(Collectors.joining(", "));
    }

    private static String budget(AblationSettings s) {
        String steps = s.steps() != null ? "until step " + s.steps() : "the preset's schedule length";
        return s.timeBudget() == null ? steps + ", " + s.checkpoints() + " checkpoints"
                : String.format(Locale.ROOT, "%.1f min (or %s), %d parts", s.timeBudget().toMillis() / 60_000.0, steps,
                s.checkpoints());
    }

    private static void page(AblationSettings s, List<AblationLine> lines, List<String> problems) throws IOException {
        String about = String.format(Locale.ROOT, "%s on %s, %s; seeds %s; probe task(s) %s%s; protocols %s.",
                s.modality().id(), s.data(), budget(s), s.seeds().stream().map(String::valueOf).collect(Collectors.joining(", ")),
                String.join(", ", s.evaluation().tasks()), limits(s),
                protocols(s).stream().map(Protocol::id).collect(Collectors.joining(", ")));
        Files.createDirectories(s.out());
        AtomicFiles.write(s.out().resolve(PAGE), AblationReport.html("d2v ablation: " + s.out().toAbsolutePath().getFileName(),
                about, lines, problems, Instant.now()));
    }

    private static String limits(AblationSettings s) {
        int train = s.evaluation().trainLimit();
        int test = s.evaluation().testLimit();
        return train <= 0 && test <= 0 ? "" : " (at most " + (train > 0 ? train : "all") + " train, "
                + (test > 0 ? test : "all") + " test records)";
    }
}

package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point of the shaded job jar on a Flink cluster:
 * <pre>
 * flink run -c dev.d2v.preprocess.job.PreprocessJobMain d2v-preprocess-flink-&lt;version&gt;-job.jar \
 *     --modality image|audio|text|all [--config d2v.yaml] [--bootstrap HOST:PORT] [--vocab vocab.txt]
 *     [--parallelism N] [--epoch E] [--batch-size N] [--partial-timeout-ms MS] [--checkpoint-interval-ms MS] [--bounded]
 * </pre>
 * The jar is built by every package of preprocess/flink into its target folder (see preprocess/TRANSFORMS.md).
 * The configuration file is read on the client (where {@code flink run} runs); the vocabulary file's bytes
 * travel inside the job graph, so the task managers need neither file.
 */
public final class PreprocessJobMain {

    static final Set<String> FLAGS = Set.of("--bounded");
    static final Set<String> OPTIONS = Set.of("--modality", "--config", "--bootstrap", "--vocab", "--parallelism", "--epoch",
            "--batch-size", "--partial-timeout-ms", "--checkpoint-interval-ms");

    private PreprocessJobMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        PipelineConfig config = a.containsKey("--config") ? PipelineConfig.load(Path.of(a.get("--config"))) : PipelineConfig.defaults();
        config = config.withBootstrap(a.get("--bootstrap"));
        List<Modality> modalities = PreprocessOptions.parseModalities(a.getOrDefault("--modality", "all"));
        PreprocessOptions options = new PreprocessOptions(modalities,
                a.containsKey("--vocab") ? Path.of(a.get("--vocab")) : null,
                Integer.parseInt(a.getOrDefault("--parallelism", "1")),
                Long.parseLong(a.getOrDefault("--epoch", "0")),
                a.containsKey("--bounded"),
                Integer.parseInt(a.getOrDefault("--batch-size", "0")),
                Long.parseLong(a.getOrDefault("--partial-timeout-ms", "0")),
                Long.parseLong(a.getOrDefault("--checkpoint-interval-ms", "0")));
        List<PreprocessJobConfig> jobs = options.jobs(config);
        StreamExecutionEnvironment env = PreprocessJob.clusterEnvironment(jobs);
        jobs.forEach(j -> PreprocessJob.buildKafka(env, j));
        env.execute(jobName(modalities));
    }

    /** "d2v preprocess image+audio+text". */
    public static String jobName(List<Modality> modalities) {
        return "d2v preprocess " + modalities.stream().map(Modality::id).collect(Collectors.joining("+"));
    }

    /** {@code --key value} pairs and the {@code --bounded} flag; anything else is an error that lists the options. */
    static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (FLAGS.contains(k)) {
                out.put(k, "true");
            } else if (OPTIONS.contains(k) && i + 1 < args.length) {
                out.put(k, args[++i]);
            } else {
                throw new IllegalArgumentException("unknown or incomplete argument '" + k + "'; options: " + OPTIONS
                        + " (each with a value), flags: " + FLAGS);
            }
        }
        return out;
    }
}

package dev.d2v.train.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.d2v.infra.Modality;
import dev.d2v.train.run.StepMetricsFile;
import dev.d2v.train.step.StepResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The continuous trainer's metrics: each step as a line of metrics.jsonl ({@link StepMetricsFile#line} plus data_wait_ms,
 * data_wait_fraction, lag, freshness_ms, wall_samples_per_s, topic, partition, offset) and as Micrometer meters,
 * scraped in the Prometheus text format from {@code http://HOST:PORT/metrics} when a port is given.
 *
 * <p>Meters (tag {@code modality} where per modality): d2v_train_loss, d2v_train_lr, d2v_train_tau,
 * d2v_train_target_std, d2v_train_target_position_share, d2v_train_prediction_std, d2v_train_consumer_lag_records, d2v_train_freshness_seconds,
 * d2v_train_samples_per_second, d2v_train_data_wait_fraction, d2v_train_step; counters d2v_train_steps_total,
 * d2v_train_samples_total, d2v_train_skipped_steps_total, d2v_train_dead_letters_total, d2v_train_checkpoints_total.
 */
public final class StreamMetrics implements Consumer<TrainedStep>, AutoCloseable {

    /** Last value per modality and gauge name, read by the registry at scrape time. */
    private final Map<Modality, Map<String, AtomicReference<Double>>> last = new EnumMap<>(Modality.class);
    private final AtomicReference<Double> waitFraction = new AtomicReference<>(0.0);
    private final AtomicReference<Double> samplesPerSecond = new AtomicReference<>(0.0);
    private final AtomicReference<Double> step = new AtomicReference<>(0.0);
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter deadLetters;
    private final Counter checkpoints;
    private final StepMetricsFile file;
    private final HttpServer server;

    private static final String[] GAUGES = {"loss", "lr", "tau", "target_std", "target_position_share", "prediction_std", "consumer_lag_records",
            "freshness_seconds"};

    /** Metrics with the endpoint, if any, on the loopback interface only. */
    public StreamMetrics(Path file, int port) throws IOException {
        this(file, LOOPBACK, port);
    }

    /** The address an endpoint listens on unless told otherwise: this machine only. */
    public static final String LOOPBACK = "127.0.0.1";

    /**
     * @param file metrics.jsonl, or null for none
     * @param host the address the Prometheus endpoint binds: 127.0.0.1 (this machine only), 0.0.0.0 (every
     *             interface, for a scraper on another host: the Kubernetes manifest) or one interface's address
     * @param port Prometheus endpoint port; 0 = no endpoint, -1 = any free port (tests)
     */
    public StreamMetrics(Path file, String host, int port) throws IOException {
        this.file = file == null ? null : new StepMetricsFile(file);
        Gauge.builder("d2v_train_data_wait_fraction", waitFraction, AtomicReference::get)
                .description("share of wall time the trainer waited for data").register(registry);
        Gauge.builder("d2v_train_samples_per_second", samplesPerSecond, AtomicReference::get)
                .description("samples per second of wall time over the last steps").register(registry);
        Gauge.builder("d2v_train_step", step, AtomicReference::get).description("optimizer steps done").register(registry);
        this.deadLetters = Counter.builder("d2v_train_dead_letters").register(registry);
        this.checkpoints = Counter.builder("d2v_train_checkpoints").register(registry);
        if (port != 0) {
            server = HttpServer.create(new InetSocketAddress(host, Math.max(port, 0)), 0);
            server.createContext("/metrics", ex -> {
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body);
                }
            });
            server.setExecutor(null);
            server.start();
        } else {
            server = null;
        }
    }

    /** The address the endpoint listens on, null when there is none. */
    public InetSocketAddress address() {
        return server == null ? null : server.getAddress();
    }

    /** The endpoint's port, -1 when there is none. */
    public int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition, as the endpoint serves it. */
    public String scrape() {
        return registry.scrape();
    }

    /** The metrics.jsonl line of one step. */
    public static ObjectNode line(TrainedStep s) {
        ObjectNode o = StepMetricsFile.line(s.result());
        o.put("data_wait_ms", s.dataWaitMs());
        o.put("data_wait_fraction", s.dataWaitFraction());
        o.put("lag", s.lag());
        o.put("freshness_ms", s.freshnessMs());
        o.put("wall_samples_per_s", s.samplesPerSecond());
        o.put("topic", s.source().topic());
        o.put("partition", s.source().partition());
        o.put("offset", s.source().offset());
        return o;
    }

    @Override
    public void accept(TrainedStep s) {
        StepResult r = s.result();
        Map<String, AtomicReference<Double>> g = gauges(r.modality());
        g.get("loss").set(r.loss());
        g.get("lr").set(r.lr());
        g.get("tau").set(r.tau());
        g.get("target_std").set(r.targetStd());
        g.get("target_position_share").set(r.targetPositionShare());
        g.get("prediction_std").set(r.predictionStd());
        g.get("consumer_lag_records").set((double) s.lag());
        g.get("freshness_seconds").set(s.freshnessMs() < 0 ? Double.NaN : s.freshnessMs() / 1000.0);
        waitFraction.set(s.dataWaitFraction());
        samplesPerSecond.set(s.samplesPerSecond());
        step.set((double) r.step() + 1);
        String m = r.modality().id();
        registry.counter("d2v_train_steps", "modality", m).increment();
        registry.counter("d2v_train_samples", "modality", m).increment(r.samples());
        if (!r.applied()) {
            registry.counter("d2v_train_skipped_steps", "modality", m).increment();
        }
        if (file != null) {
            file.write(line(s));
        }
    }

    public void deadLetter() {
        deadLetters.increment();
    }

    public void checkpoint() {
        checkpoints.increment();
    }

    private Map<String, AtomicReference<Double>> gauges(Modality m) {
        return last.computeIfAbsent(m, k -> {
            Map<String, AtomicReference<Double>> g = new LinkedHashMap<>();
            for (String name : GAUGES) {
                AtomicReference<Double> v = new AtomicReference<>(Double.NaN);
                Gauge.builder("d2v_train_" + name, v, AtomicReference::get).tag("modality", k.id()).register(registry);
                g.put(name, v);
            }
            return g;
        });
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.stop(0);
        }
        registry.close();
        if (file != null) {
            file.close();
        }
    }
}

package dev.d2v.ingest.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** What spoken-digits and spoken-phrases share: seeding, speaker checks and the synthesis pool. */
final class SpokenSupport {

    /** Every digit word once: en-us-nyc differs from en-us only in some of them (two, four, eight). */
    static final String PROBE_TEXT = "zero one two three four five six seven eight nine";

    private SpokenSupport() {
    }

    /**
     * A Random that depends only on the seed and the key, never on the order of calls or threads: FNV-1a 64
     * over the key's UTF-8 bytes, mixed with the seed by SplitMix64's finaliser.
     */
    static Random random(long seed, String... key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : String.join("\u001f", key).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        long z = seed ^ h;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return new Random(z ^ (z >>> 31));
    }

    /**
     * The speakers that actually sound different, split by variant.
     *
     * @param train    speakers of train variants, in SpeakerSet order
     * @param test     speakers of held-out variants
     * @param dropped  speaker names whose probe was byte-identical to an earlier speaker's ("a = b")
     */
    record Split(List<Speaker> train, List<Speaker> test, List<String> dropped) {
    }

    /** Checks the variants exist, probes every speaker (in parallel) and drops duplicates. */
    static Split split(SpeakerSet set, SpeechSynth synth, int threads, Consumer<String> progress)
            throws IOException {
        synth.checkVariants(set.variants());
        List<Speaker> all = set.all();
        List<String> hashes = parallel(all, threads, progress, "probing speakers",
                s -> sha256(synth.probe(s, PROBE_TEXT)));
        Map<String, Speaker> first = new LinkedHashMap<>();
        List<Speaker> train = new ArrayList<>();
        List<Speaker> test = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Speaker s = all.get(i);
            Speaker same = first.putIfAbsent(hashes.get(i), s);
            if (same != null) {
                dropped.add(s.name() + " = " + same.name());
            } else {
                (set.isTest(s) ? test : train).add(s);
            }
        }
        if (train.isEmpty() || test.isEmpty()) {
            throw new IOException("after dropping identical speakers " + dropped + " a split is empty: train "
                    + train + ", test " + test);
        }
        return new Split(List.copyOf(train), List.copyOf(test), List.copyOf(dropped));
    }

    interface Task<T, R> {
        R apply(T t) throws IOException;
    }

    /**
     * Applies {@code task} to every item on a fixed pool of {@code threads}; results in item order. The first
     * failure cancels the rest and is rethrown. Reports progress about every 5%.
     */
    static <T, R> List<R> parallel(List<T> items, int threads, Consumer<String> progress, String what,
                                   Task<T, R> task) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<R>> futures = new ArrayList<>();
        try {
            for (T item : items) {
                futures.add(pool.submit(() -> task.apply(item)));
            }
            List<R> out = new ArrayList<>(items.size());
            int step = Math.max(1, items.size() / 20);
            for (Future<R> f : futures) {
                out.add(f.get());
                if (out.size() % step == 0 || out.size() == items.size()) {
                    progress.accept(what + ": " + out.size() + "/" + items.size());
                }
            }
            return out;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(what + " failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + what, e);
        } finally {
            futures.forEach(f -> f.cancel(true));
            pool.shutdownNow();
            awaitQuietly(pool); // a running tool finishes within a second; none may outlive this call
        }
    }

    private static void awaitQuietly(ExecutorService pool) {
        try {
            pool.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}

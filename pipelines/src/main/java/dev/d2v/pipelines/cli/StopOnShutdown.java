package dev.d2v.pipelines.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A stop flag that Ctrl-C / SIGTERM sets: the JVM's shutdown hook sets it and then waits until {@link #close} (the
 * run finished its step, wrote its checkpoint and exported), so the process does not exit under a half-written run.
 */
final class StopOnShutdown implements BooleanSupplier, AutoCloseable {

    private final AtomicBoolean stop = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;

    StopOnShutdown(String name) {
        hook = new Thread(() -> {
            stop.set(true);
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public boolean getAsBoolean() {
        return stop.get();
    }

    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C / SIGTERM: the hook is running and waits for done
        }
    }
}

package dev.d2v.infra.kafka;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of the child JVMs that {@link LocalKafka} starts (the storage formatter and the broker).
 * Usage: {@code ChildMain <launcher pid> <main class> [args...]}. It exits as soon as the launching JVM is
 * gone, so that a launcher killed with SIGKILL (no shutdown hook runs) never leaves an orphan broker
 * holding the port; {@code System.exit} still runs the broker's own shutdown hook, so the exit is clean.
 * The target main class is loaded by name because kafka_2.13 is only a runtime dependency.
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: ChildMain <launcher pid> <main class> [args...]");
        }
        long launcher = Long.parseLong(args[0]);
        ProcessHandle.of(launcher).ifPresentOrElse(
                h -> h.onExit().thenRun(() -> {
                    System.err.println("d2v: launcher process " + launcher + " exited; stopping");
                    System.exit(0);
                }),
                () -> System.exit(0));
        String[] rest = Arrays.copyOfRange(args, 2, args.length);
        try {
            Class.forName(args[1]).getMethod("main", String[].class).invoke(null, (Object) rest);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}

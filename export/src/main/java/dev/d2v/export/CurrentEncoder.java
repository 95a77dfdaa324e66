package dev.d2v.export;

import ai.onnxruntime.OrtException;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Follows a promoted package: {@code <root>/<modality>/current}, the link the evaluator's promotion replaces
 * atomically ({@code ./d2v evaluate --promote ... --promote-export ROOT}). Each {@link #encode} checks where the link
 * points and, when a new checkpoint was promoted, opens its package (verified) before encoding; the package before is
 * closed. A call sees one package whole: the link is replaced in one rename and a package never changes once there.
 */
public final class CurrentEncoder implements AutoCloseable {

    private final Path link;
    private final Modality modality;
    private final OnnxEncoder.Options options;
    private Path loadedTarget;
    private OnnxEncoder encoder;

    /** Follows root/&lt;modality&gt;/current, or a link given directly. */
    public CurrentEncoder(Path rootOrLink, Modality modality, OnnxEncoder.Options options) {
        Path asRoot = rootOrLink.resolve(modality.id()).resolve("current");
        this.link = Files.isSymbolicLink(asRoot) || !Files.isSymbolicLink(rootOrLink) ? asRoot : rootOrLink;
        this.modality = modality;
        this.options = options;
    }

    /** The package in use, opening the newly promoted one first when the link moved. */
    public synchronized OnnxEncoder encoder() throws IOException {
        if (!Files.isSymbolicLink(link)) {
            throw new IOException(link + " is not a promoted package link (nothing promoted yet?)");
        }
        Path target = link.resolveSibling(Files.readSymbolicLink(link)).toRealPath();
        if (!target.equals(loadedTarget)) {
            OnnxEncoder next = OnnxEncoder.load(target, modality, options);
            OnnxEncoder before = encoder;
            encoder = next;
            loadedTarget = target;
            if (before != null) {
                try {
                    before.close();
                } catch (OrtException e) {
                    throw new IOException("closing the package before " + target + ": " + e.getMessage(), e);
                }
            }
        }
        return encoder;
    }

    /** {@link OnnxEncoder#encode} on the current package. */
    public synchronized OnnxEncoder.Features encode(Minibatch b) throws IOException, OrtException {
        return encoder().encode(b);
    }

    /** The step of the package in use (after {@link #encoder}). */
    public synchronized long step() throws IOException {
        return encoder().exportPackage().step();
    }

    @Override
    public synchronized void close() throws OrtException {
        if (encoder != null) {
            encoder.close();
        }
    }
}

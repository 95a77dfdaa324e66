package dev.d2v.preprocess.transform.text;

import dev.d2v.preprocess.transform.BadRecordException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * UTF-8 bytes to token blocks: strict UTF-8 decoding (malformed input is a bad record, not U+FFFD), the
 * analyzer chain, vocabulary ids, then blocks of cfg.blockLength: [CLS] up to L-2 tokens [SEP] padding.
 * A text longer than L-2 tokens is truncated to its first block, or with splitLongText cut into
 * consecutive blocks (at most maxBlocks; the rest is dropped). Thread-safe.
 */
public final class TextEncoder {

    private final TextTransformConfig cfg;
    private final TextAnalysis analysis;
    private final Vocabulary vocab;

    public TextEncoder(TextTransformConfig cfg, TextAnalysis analysis, Vocabulary vocab) {
        if (vocab.analyzer() != cfg.analyzer()) {
            throw new IllegalArgumentException("vocabulary was built with analyzer " + vocab.analyzer()
                    + " but the text config asks for " + cfg.analyzer() + "; rebuild the vocabulary or change the config");
        }
        this.cfg = cfg;
        this.analysis = analysis;
        this.vocab = vocab;
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /** @throws BadRecordException empty (no bytes or no tokens), oversized, invalid-utf8 */
    public List<TokenBlock> encode(byte[] utf8) {
        String text = decodeUtf8(utf8, cfg.maxBytes());
        List<String> tokens = analysis.tokens(text);
        if (tokens.isEmpty()) {
            throw new BadRecordException(BadRecordException.EMPTY, "text has no tokens (" + utf8.length + " bytes)");
        }
        int perBlock = cfg.blockLength() - 2;
        int nBlocks = cfg.splitLongText() ? Math.min(cfg.maxBlocks(), (tokens.size() + perBlock - 1) / perBlock) : 1;
        List<TokenBlock> blocks = new ArrayList<>(nBlocks);
        for (int b = 0; b < nBlocks; b++) {
            int from = b * perBlock;
            blocks.add(block(tokens.subList(from, Math.min(tokens.size(), from + perBlock))));
        }
        return blocks;
    }

    /** [CLS] tokens [SEP] then [PAD] to blockLength; tokens.size() <= blockLength - 2. */
    TokenBlock block(List<String> tokens) {
        int[] ids = new int[cfg.blockLength()];
        Arrays.fill(ids, Vocabulary.PAD);
        ids[0] = Vocabulary.CLS;
        for (int i = 0; i < tokens.size(); i++) {
            ids[i + 1] = vocab.id(tokens.get(i));
        }
        ids[tokens.size() + 1] = Vocabulary.SEP;
        return new TokenBlock(ids, tokens.size() + 2);
    }

    /** Strict UTF-8 (REPORT on malformed and unmappable input); a leading BOM is dropped. */
    public static String decodeUtf8(byte[] bytes, long maxBytes) {
        BadRecordException.checkSize(bytes, maxBytes, "text");
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new BadRecordException(BadRecordException.INVALID_UTF8, "text is not valid UTF-8: " + e.getMessage(), e);
        }
    }
}

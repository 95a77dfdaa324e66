package dev.d2v.preprocess.transform.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.icu.segmentation.ICUTokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/**
 * The Lucene chain: tokenizer (StandardTokenizer or ICUTokenizer) -> LowerCaseFilter -> ASCIIFoldingFilter
 * ("Café" -> "cafe"). Thread-safe: Lucene's Analyzer reuses its components per thread.
 */
public final class TextAnalysis implements AutoCloseable {

    private final Analyzer analyzer;

    public TextAnalysis(TextTransformConfig.AnalyzerKind kind) {
        this.analyzer = new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String field) {
                Tokenizer source = kind == TextTransformConfig.AnalyzerKind.ICU ? new ICUTokenizer() : new StandardTokenizer();
                TokenStream chain = new ASCIIFoldingFilter(new LowerCaseFilter(source));
                return new TokenStreamComponents(source, chain);
            }
        };
    }

    /** The analysed tokens of text, in order. */
    public List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream("text", text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) {
                out.add(term.toString());
            }
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException("tokenizing from a String cannot fail; Lucene reported", e);
        }
        return out;
    }

    @Override
    public void close() {
        analyzer.close();
    }
}

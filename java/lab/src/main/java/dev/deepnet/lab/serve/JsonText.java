package dev.deepnet.lab.serve;

import dev.deepnet.infer.ClassProbability;
import dev.deepnet.infer.Classification;
import java.util.List;

/** The JSON the server answers with, written as text: one line each, nothing to configure. */
final class JsonText {
    private JsonText() {}

    /**
     * {@code {"label": "Sandal", "index": 5, "probability": 0.91, "top": [{"label": ..., "index": ...,
     * "probability": ...}, ...], "conversions": ["converted colour to grey"]}}: the best class, the
     * {@code top} most probable (best first), and how the input was made to fit the model.
     */
    static String classification(Classification c, int top) {
        ClassProbability best = c.best();
        StringBuilder sb = new StringBuilder(128 + 64 * top);
        sb.append('{');
        classProbability(sb, best);
        sb.append(", \"top\": [");
        List<ClassProbability> ranked = c.top(top);
        for (int i = 0; i < ranked.size(); i++) {
            sb.append(i == 0 ? "{" : ", {");
            classProbability(sb, ranked.get(i));
            sb.append('}');
        }
        sb.append("], \"conversions\": ");
        strings(sb, c.conversions());
        return sb.append("}\n").toString();
    }

    private static void classProbability(StringBuilder sb, ClassProbability p) {
        sb.append("\"label\": ");
        quote(sb, p.label());
        sb.append(", \"index\": ").append(p.index()).append(", \"probability\": ").append(p.probability());
    }

    /** {@code {"error": "..."}}: a one-line reason for the client. */
    static String error(String reason) {
        StringBuilder sb = new StringBuilder("{\"error\": ");
        quote(sb, reason);
        return sb.append("}\n").toString();
    }

    static void strings(StringBuilder sb, List<String> values) {
        sb.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            quote(sb, values.get(i));
        }
        sb.append(']');
    }

    /** {@code s} as a JSON string: quotes, backslashes and control characters escaped, so it stays one line. */
    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20 || ch == 0x2028 || ch == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        sb.append('"');
    }
}

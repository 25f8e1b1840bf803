package dev.deepnet.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON (RFC 8259), just what a safetensors header needs: a reader that keeps key order and
 * refuses duplicate keys, and a string writer.
 *
 * <p>Values read: objects as {@code LinkedHashMap<String, Object>} (document order), arrays as
 * {@code List<Object>}, strings as {@code String}, numbers as {@link Num} (the text as written,
 * never rounded), {@code true}/{@code false} as {@code Boolean}, {@code null} as {@link #NULL}.
 * Refused: anything RFC 8259 does not allow (comments, trailing commas, single quotes, leading
 * zeros, {@code NaN}, unescaped control characters, unpaired surrogates in {@code \\u} escapes),
 * duplicate keys in any object, and nesting deeper than {@link #MAX_DEPTH}.
 */
final class Json {

    /** JSON {@code null}. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Deepest nesting accepted; a safetensors header needs 3. Bounds the parser's recursion. */
    static final int MAX_DEPTH = 64;

    /** A JSON number, as written. {@code integer} when it has neither fraction nor exponent. */
    record Num(String text, boolean integer) {
        @Override
        public String toString() {
            return text;
        }
    }

    /** Malformed JSON; {@code index} is the char position in the text where it was found. */
    static final class SyntaxException extends Exception {
        final int index;

        SyntaxException(String message, int index) {
            super(message);
            this.index = index;
        }
    }

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses {@code text}: one value, optionally surrounded by whitespace, nothing else. */
    static Object parse(String text) throws SyntaxException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value(1);
        p.skipWhitespace();
        if (p.pos < text.length()) {
            throw p.error("unexpected " + p.describe(p.pos) + " after the end of the JSON value");
        }
        return value;
    }

    private Object value(int depth) throws SyntaxException {
        if (pos >= text.length()) {
            throw error("expected a value but the text ended");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("expected a value but found " + describe(pos));
            }
        };
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return members;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key but found " + describe(pos));
            }
            int keyStart = pos;
            String key = string();
            if (members.containsKey(key)) {
                pos = keyStart;
                throw error("duplicate key " + quote(key));
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            members.put(key, value(depth + 1));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return members;
            } else {
                throw error("expected ',' or '}' but found " + describe(pos));
            }
        }
    }

    private List<Object> array(int depth) throws SyntaxException {
        checkDepth(depth);
        pos++; // '['
        List<Object> elements = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return elements;
        }
        while (true) {
            skipWhitespace();
            elements.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return elements;
            } else {
                throw error("expected ',' or ']' but found " + describe(pos));
            }
        }
    }

    private String string() throws SyntaxException {
        int start = pos;
        pos++; // '"'
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                pos = start;
                throw error("string is not terminated");
            }
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("control character " + describe(pos) + " must be escaped in a string");
            }
            if (c != '\\') {
                sb.append(c); // the text came from strict UTF-8, so surrogates arrive in pairs
                pos++;
                continue;
            }
            int escapeStart = pos;
            pos++;
            if (pos >= text.length()) {
                pos = start;
                throw error("string is not terminated");
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char u = hex4(escapeStart);
                    if (Character.isHighSurrogate(u)) {
                        int lowStart = pos;
                        if (!text.startsWith("\\u", pos)) {
                            pos = escapeStart;
                            throw error("\\u escape of high surrogate U+" + hexOf(u) + " is not followed by a low surrogate");
                        }
                        pos += 2;
                        char low = hex4(lowStart);
                        if (!Character.isLowSurrogate(low)) {
                            pos = escapeStart;
                            throw error("\\u escape of high surrogate U+" + hexOf(u) + " is not followed by a low surrogate");
                        }
                        sb.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        pos = escapeStart;
                        throw error("\\u escape of low surrogate U+" + hexOf(u) + " without a high surrogate before it");
                    } else {
                        sb.append(u);
                    }
                }
                default -> {
                    pos = escapeStart;
                    throw error("invalid escape \\" + (e < 0x20 || e > 0x7e ? "U+" + hexOf(e) : String.valueOf(e)));
                }
            }
        }
    }

    private char hex4(int escapeStart) throws SyntaxException {
        if (pos + 4 > text.length()) {
            pos = escapeStart;
            throw error("\\u escape needs 4 hex digits");
        }
        int v = 0;
        for (int k = 0; k < 4; k++) {
            char h = text.charAt(pos + k);
            int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) {
                pos = escapeStart;
                throw error("\\u escape needs 4 hex digits");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private Num number() throws SyntaxException {
        int start = pos;
        boolean integer = true;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("number has a leading zero");
            }
        } else if (isDigit(peek())) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw error("expected a digit but found " + describe(pos));
        }
        if (peek() == '.') {
            integer = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point but found " + describe(pos));
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent but found " + describe(pos));
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        return new Num(text.substring(start, pos), integer);
    }

    private Object literal(String word, Object value) throws SyntaxException {
        if (!text.startsWith(word, pos)) {
            throw error("expected a value but found " + describe(pos));
        }
        pos += word.length();
        return value;
    }

    private void checkDepth(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) {
            throw error("expected '" + c + "' but found " + describe(pos));
        }
        pos++;
    }

    /** The char at the position, or 0 past the end (0 is never valid there unescaped). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String describe(int at) {
        if (at >= text.length()) {
            return "the end of the text";
        }
        char c = text.charAt(at);
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : "U+" + hexOf(c);
    }

    private static String hexOf(char c) {
        return String.format("%04X", (int) c);
    }

    private SyntaxException error(String message) {
        return new SyntaxException(message, pos);
    }

    // ---------------------------------------------------------------- writing

    /** {@code s} as a JSON string literal, escaped the way serde_json does; non-ASCII stays as is. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        appendQuoted(sb, s);
        return sb.toString();
    }

    static void appendQuoted(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u").append(String.format("%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Index of the first unpaired surrogate in {@code s} (not encodable as UTF-8), or -1. */
    static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }
}

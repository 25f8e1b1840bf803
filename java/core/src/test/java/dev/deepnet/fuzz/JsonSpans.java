package dev.deepnet.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * Where each value of a JSON text sits, so a mutator can rewrite one number, string, array or
 * member and leave every other byte as it was. Lenient where the loaders are strict (numbers and
 * escapes are not checked, text after the root value is ignored): it only has to find structure,
 * and a text it cannot follow (after a byte-level mutation) gives null, never an exception.
 */
final class JsonSpans {
    private JsonSpans() {}

    /** Deeper than this the scanner gives up: a mutated input nested 5000 deep must not overflow the generator's stack. */
    private static final int MAX_DEPTH = 100;

    enum Kind { OBJECT, ARRAY, STRING, NUMBER, LITERAL }

    /**
     * A value at {@code text[start, end)}. Arrays have their elements as children; objects their
     * member values as children and the member keys (strings) at the same index in {@code keys}.
     */
    record Value(Kind kind, int start, int end, List<Value> children, List<Value> keys) {
        String in(String text) {
            return text.substring(start, end);
        }
    }

    /** The root value of {@code text}, or null when {@code text} does not start with JSON this scanner follows. */
    static Value parse(String text) {
        Scanner s = new Scanner(text);
        try {
            s.skipWhitespace();
            return s.value(0);
        } catch (NotFollowed e) {
            return null; // the scanner's only way of saying "no structure here"
        }
    }

    /** Every value below and including {@code root}, parents before children (keys excluded). */
    static List<Value> values(Value root) {
        List<Value> out = new ArrayList<>();
        collect(root, out);
        return out;
    }

    private static void collect(Value v, List<Value> out) {
        out.add(v);
        for (Value c : v.children) {
            collect(c, out);
        }
    }

    /** Every member key below {@code root}. */
    static List<Value> keys(Value root) {
        List<Value> out = new ArrayList<>();
        for (Value v : values(root)) {
            out.addAll(v.keys);
        }
        return out;
    }

    /** The value of member {@code key} of {@code object}, or null. */
    static Value member(String text, Value object, String key) {
        if (object == null || object.kind != Kind.OBJECT) {
            return null;
        }
        for (int i = 0; i < object.keys.size(); i++) {
            if (unescape(object.keys.get(i).in(text)) instanceof String k && k.equals(key)) {
                return object.children.get(i);
            }
        }
        return null;
    }

    /** {@code s} as a JSON string literal, all ASCII: quotes, backslashes, controls and non-ASCII escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** The content of a JSON string literal (with its quotes), or null when its escapes are malformed. */
    static String unescape(String literal) {
        if (literal.length() < 2 || literal.charAt(0) != '"' || literal.charAt(literal.length() - 1) != '"') {
            return null;
        }
        StringBuilder b = new StringBuilder(literal.length());
        for (int i = 1; i < literal.length() - 1; i++) {
            char c = literal.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (++i >= literal.length() - 1) {
                return null;
            }
            char e = literal.charAt(i);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 >= literal.length()) {
                        return null;
                    }
                    try {
                        b.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
                    } catch (NumberFormatException notHex) {
                        return null;
                    }
                    i += 4;
                }
                default -> {
                    return null;
                }
            }
        }
        return b.toString();
    }

    /** Thrown by the scanner where the text stops being JSON; cheap (no stack trace): it is expected. */
    private static final class NotFollowed extends RuntimeException {
        NotFollowed() {
            super(null, null, false, false);
        }
    }

    private static final class Scanner {
        private final String text;
        private int pos;

        Scanner(String text) {
            this.text = text;
        }

        Value value(int depth) {
            if (depth > MAX_DEPTH || pos >= text.length()) {
                throw new NotFollowed();
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> container(Kind.OBJECT, '}', depth);
                case '[' -> container(Kind.ARRAY, ']', depth);
                case '"' -> string();
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield run(Kind.NUMBER, "0123456789+-.eE");
                    }
                    if (c >= 'a' && c <= 'z') {
                        yield run(Kind.LITERAL, "abcdefghijklmnopqrstuvwxyz");
                    }
                    throw new NotFollowed();
                }
            };
        }

        private Value container(Kind kind, char close, int depth) {
            int start = pos++;
            List<Value> children = new ArrayList<>();
            List<Value> keys = new ArrayList<>();
            skipWhitespace();
            if (peek() == close) {
                pos++;
                return new Value(kind, start, pos, children, keys);
            }
            while (true) {
                skipWhitespace();
                if (kind == Kind.OBJECT) {
                    if (peek() != '"') {
                        throw new NotFollowed();
                    }
                    keys.add(string());
                    skipWhitespace();
                    if (peek() != ':') {
                        throw new NotFollowed();
                    }
                    pos++;
                    skipWhitespace();
                }
                children.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == close) {
                    return new Value(kind, start, pos, children, keys);
                }
                if (c != ',') {
                    throw new NotFollowed();
                }
            }
        }

        private Value string() {
            int start = pos++;
            while (pos < text.length()) {
                char c = text.charAt(pos++);
                if (c == '\\') {
                    pos++;
                } else if (c == '"') {
                    return new Value(Kind.STRING, start, pos, List.of(), List.of());
                }
            }
            throw new NotFollowed();
        }

        private Value run(Kind kind, String chars) {
            int start = pos;
            while (pos < text.length() && chars.indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
            return new Value(kind, start, pos, List.of(), List.of());
        }

        private char peek() {
            if (pos >= text.length()) {
                throw new NotFollowed();
            }
            return text.charAt(pos);
        }

        void skipWhitespace() {
            while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
        }
    }
}

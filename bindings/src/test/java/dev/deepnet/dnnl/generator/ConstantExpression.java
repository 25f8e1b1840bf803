package dev.deepnet.dnnl.generator;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Evaluates an integer constant expression of C, as found in enumerator initialisers and
 * (preprocessor-expanded) macro bodies: literals with suffixes, names of earlier constants,
 * casts to integer types, unary and binary operators, parentheses. Arithmetic is 64-bit; the
 * result remembers whether its C type is 64 bits wide. Anything else (pointers, floats, member
 * access, calls) is rejected with {@link NotConstant}.
 */
final class ConstantExpression {

    /** A value and whether its C type is 64-bit and/or unsigned. */
    record Value(long value, boolean isLong, boolean unsigned) {}

    static final class NotConstant extends Exception {
        private static final long serialVersionUID = 1L;

        NotConstant(String message) {
            super(message);
        }
    }

    private static final Set<String> TYPE_WORDS = Set.of("unsigned", "signed", "int", "long", "short", "char", "const");

    private final List<CToken> tokens;
    private final Map<String, Value> names;
    /** Width in bytes of a typedef'd integer type, or null when the name is no integer type. */
    private final Function<String, Integer> typedefWidth;
    private int pos;

    private ConstantExpression(List<CToken> tokens, Map<String, Value> names, Function<String, Integer> typedefWidth) {
        this.tokens = tokens;
        this.names = names;
        this.typedefWidth = typedefWidth;
    }

    static Value evaluate(List<CToken> tokens, Map<String, Value> names, Function<String, Integer> typedefWidth)
            throws NotConstant {
        if (tokens.isEmpty()) {
            throw new NotConstant("empty");
        }
        ConstantExpression e = new ConstantExpression(tokens, names, typedefWidth);
        Value v = e.conditional();
        if (e.pos != tokens.size()) {
            throw new NotConstant("unexpected '" + tokens.get(e.pos).text() + "'");
        }
        return v;
    }

    private CToken peek() {
        return pos < tokens.size() ? tokens.get(pos) : null;
    }

    private boolean accept(String s) {
        CToken t = peek();
        if (t != null && t.kind() == CToken.Kind.PUNCT && t.is(s)) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(String s) throws NotConstant {
        if (!accept(s)) {
            CToken t = peek();
            throw new NotConstant("expected '" + s + "' but found " + (t == null ? "end" : "'" + t.text() + "'"));
        }
    }

    private Value conditional() throws NotConstant {
        Value c = binary(0);
        if (accept("?")) {
            Value a = conditional();
            expect(":");
            Value b = conditional();
            return c.value() != 0 ? a : b;
        }
        return c;
    }

    private static final List<List<String>> PRECEDENCE = List.of(
            List.of("||"), List.of("&&"), List.of("|"), List.of("^"), List.of("&"),
            List.of("==", "!="), List.of("<", ">", "<=", ">="), List.of("<<", ">>"),
            List.of("+", "-"), List.of("*", "/", "%"));

    private Value binary(int level) throws NotConstant {
        if (level == PRECEDENCE.size()) {
            return unary();
        }
        Value left = binary(level + 1);
        while (true) {
            CToken t = peek();
            if (t == null || t.kind() != CToken.Kind.PUNCT || !PRECEDENCE.get(level).contains(t.text())) {
                return left;
            }
            pos++;
            Value right = binary(level + 1);
            left = apply(t.text(), left, right);
        }
    }

    private static Value apply(String op, Value a, Value b) throws NotConstant {
        boolean isLong = a.isLong() || b.isLong();
        boolean unsigned = a.unsigned() || b.unsigned();
        long x = a.value();
        long y = b.value();
        long r = switch (op) {
            case "||" -> (x != 0 || y != 0) ? 1 : 0;
            case "&&" -> (x != 0 && y != 0) ? 1 : 0;
            case "|" -> x | y;
            case "^" -> x ^ y;
            case "&" -> x & y;
            case "==" -> x == y ? 1 : 0;
            case "!=" -> x != y ? 1 : 0;
            case "<" -> (unsigned ? Long.compareUnsigned(x, y) < 0 : x < y) ? 1 : 0;
            case ">" -> (unsigned ? Long.compareUnsigned(x, y) > 0 : x > y) ? 1 : 0;
            case "<=" -> (unsigned ? Long.compareUnsigned(x, y) <= 0 : x <= y) ? 1 : 0;
            case ">=" -> (unsigned ? Long.compareUnsigned(x, y) >= 0 : x >= y) ? 1 : 0;
            case "<<" -> x << y;
            case ">>" -> a.unsigned() ? x >>> y : x >> y;
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/", "%" -> {
                if (y == 0) {
                    throw new NotConstant("division by zero");
                }
                yield op.equals("/") ? (unsigned ? Long.divideUnsigned(x, y) : x / y)
                        : (unsigned ? Long.remainderUnsigned(x, y) : x % y);
            }
            default -> throw new NotConstant("operator " + op);
        };
        if (List.of("||", "&&", "==", "!=", "<", ">", "<=", ">=").contains(op)) {
            return new Value(r, false, false); // comparisons have type int
        }
        return normalise(r, isLong, unsigned);
    }

    /** Wraps a result to 32 bits when its type is int, as C would. */
    private static Value normalise(long v, boolean isLong, boolean unsigned) {
        if (isLong) {
            return new Value(v, true, unsigned);
        }
        return new Value(unsigned ? v & 0xFFFF_FFFFL : (int) v, false, unsigned);
    }

    private Value unary() throws NotConstant {
        if (accept("-")) {
            Value v = unary();
            return normalise(-v.value(), v.isLong(), v.unsigned());
        }
        if (accept("+")) {
            return unary();
        }
        if (accept("~")) {
            Value v = unary();
            return normalise(~v.value(), v.isLong(), v.unsigned());
        }
        if (accept("!")) {
            return new Value(unary().value() == 0 ? 1 : 0, false, false);
        }
        if (isCast()) {
            return cast();
        }
        return primary();
    }

    /** '(' followed by type words or a known integer typedef and ')' starts a cast. */
    private boolean isCast() {
        CToken t = peek();
        if (t == null || !t.is("(") || pos + 1 >= tokens.size()) {
            return false;
        }
        CToken first = tokens.get(pos + 1);
        return first.isIdentifier() && (TYPE_WORDS.contains(first.text()) || first.text().equals("void")
                || typedefWidth.apply(first.text()) != null);
    }

    private Value cast() throws NotConstant {
        expect("(");
        int width = 4;
        boolean unsigned = false;
        int longs = 0;
        boolean sawTypedef = false;
        while (peek() != null && !peek().is(")")) {
            CToken t = tokens.get(pos++);
            switch (t.text()) {
                case "unsigned" -> unsigned = true;
                case "signed", "int", "const" -> { }
                case "long" -> longs++;
                case "short" -> width = 2;
                case "char" -> width = 1;
                case "*" -> throw new NotConstant("cast to a pointer type");
                case "void" -> throw new NotConstant("cast to void or void *");
                default -> {
                    Integer w = typedefWidth.apply(t.text());
                    if (w == null) {
                        throw new NotConstant("cast to unknown type " + t.text());
                    }
                    width = Math.abs(w);
                    unsigned = w < 0; // typedefWidth gives unsigned types a negative width
                    sawTypedef = true;
                }
            }
        }
        expect(")");
        if (longs > 0 && !sawTypedef) {
            width = 8;
        }
        Value v = unary();
        long raw = v.value();
        long r = switch (width) {
            case 1 -> unsigned ? raw & 0xFF : (byte) raw;
            case 2 -> unsigned ? raw & 0xFFFF : (short) raw;
            case 4 -> unsigned ? raw & 0xFFFF_FFFFL : (int) raw;
            default -> raw;
        };
        return new Value(r, width == 8, unsigned);
    }

    private Value primary() throws NotConstant {
        CToken t = peek();
        if (t == null) {
            throw new NotConstant("unexpected end");
        }
        pos++;
        if (t.is("(")) {
            Value v = conditional();
            expect(")");
            return v;
        }
        if (t.kind() == CToken.Kind.NUMBER) {
            return literal(t.text());
        }
        if (t.isIdentifier()) {
            Value v = names.get(t.text());
            if (v == null) {
                throw new NotConstant("'" + t.text() + "' is not an integer constant");
            }
            return v;
        }
        throw new NotConstant("'" + t.text() + "' is not part of an integer constant");
    }

    static Value literal(String text) throws NotConstant {
        String s = text.toLowerCase();
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == 'u' || s.charAt(end - 1) == 'l')) {
            end--;
        }
        String suffix = s.substring(end);
        String digits = s.substring(0, end);
        if (digits.contains(".") || (!digits.startsWith("0x") && (digits.contains("e") || digits.contains("f")))) {
            throw new NotConstant("floating-point literal " + text);
        }
        boolean unsigned = suffix.contains("u");
        boolean longSuffix = suffix.contains("l");
        boolean decimal = !(digits.startsWith("0x") || (digits.length() > 1 && digits.startsWith("0")));
        long v;
        try {
            if (digits.startsWith("0x")) {
                v = Long.parseUnsignedLong(digits.substring(2), 16);
            } else if (!decimal) {
                v = Long.parseUnsignedLong(digits.substring(1), 8);
            } else {
                v = Long.parseUnsignedLong(digits);
            }
        } catch (NumberFormatException e) {
            throw new NotConstant("bad integer literal " + text);
        }
        // C's literal typing: the first of int, unsigned int (not for unsuffixed decimals),
        // long, unsigned long that holds the value.
        if (!longSuffix) {
            if (!unsigned && v >= 0 && v <= Integer.MAX_VALUE) {
                return new Value(v, false, false);
            }
            if ((unsigned || !decimal) && v >= 0 && v <= 0xFFFF_FFFFL) {
                return new Value(v, false, true);
            }
        }
        return new Value(v, true, unsigned || v < 0);
    }
}

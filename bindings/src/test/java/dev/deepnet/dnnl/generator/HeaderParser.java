package dev.deepnet.dnnl.generator;

import dev.deepnet.dnnl.generator.ConstantExpression.NotConstant;
import dev.deepnet.dnnl.generator.ConstantExpression.Value;
import dev.deepnet.dnnl.generator.HeaderModel.Carrier;
import dev.deepnet.dnnl.generator.HeaderModel.Constant;
import dev.deepnet.dnnl.generator.HeaderModel.Field;
import dev.deepnet.dnnl.generator.HeaderModel.Function;
import dev.deepnet.dnnl.generator.HeaderModel.Param;
import dev.deepnet.dnnl.generator.HeaderModel.Struct;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the output of {@code gcc -E -dD} over {@code dnnl.h} into a {@link HeaderModel}.
 *
 * <p>gcc's line markers ({@code # 42 "path/oneapi/dnnl/dnnl_types.h"}) say which header each
 * line came from; only oneDNN's own headers are bound, while typedefs of every header (stdint's
 * {@code int64_t}, ...) are read to resolve types. {@code -dD} keeps each {@code #define} in place
 * so macros are attributed to their header as well; their values come from a second
 * preprocessor pass that expands them ({@code macroExpansions}).
 */
final class HeaderParser {

    private static final Pattern LINE_MARKER = Pattern.compile("^# \\d+ \"([^\"]*)\".*");
    private static final Pattern DEFINE = Pattern.compile("^#define ([A-Za-z_][A-Za-z0-9_]*)(\\(?)(.*)$");
    private static final Set<String> QUALIFIERS = Set.of("const", "volatile", "restrict", "__restrict", "__extension__", "struct", "enum", "union");

    /** How a C type name resolves: a scalar, a pointer, an enum, an array or a struct. */
    private record CType(Kind kind, Carrier carrier, int width, boolean unsigned) {
        enum Kind { SCALAR, POINTER, ENUM, ARRAY, STRUCT, VOID }

        static final CType POINTER = new CType(Kind.POINTER, Carrier.ADDRESS, 8, true);
        static final CType VOID = new CType(Kind.VOID, null, 0, false);
        static final CType STRUCT = new CType(Kind.STRUCT, null, 0, false);
        static final CType ENUM = new CType(Kind.ENUM, Carrier.INT, 4, false);
        static final CType ARRAY = new CType(Kind.ARRAY, Carrier.ADDRESS, 8, true);
    }

    private final Map<String, CType> typedefs = new HashMap<>();
    private final Map<String, Value> constantValues = new HashMap<>();
    private final List<Constant> constants = new ArrayList<>();
    private final List<Struct> structs = new ArrayList<>();
    private final List<Function> functions = new ArrayList<>();
    private final List<String> skippedMacros = new ArrayList<>();

    private HeaderParser() {}

    /** Object-like macros of oneDNN's headers, in order, with the header that defines each. */
    record MacroDefinition(String name, String body, String header) {}

    /** The oneDNN header a path belongs to ("dnnl_types.h"), or null for any other header. */
    static String dnnlHeader(String path) {
        int i = path.lastIndexOf("oneapi/dnnl/");
        return i < 0 ? null : path.substring(i + "oneapi/dnnl/".length());
    }

    /** The object-like macros with a body that oneDNN's headers define, in order. */
    static List<MacroDefinition> macroDefinitions(String preprocessed, List<String> skipped) {
        List<MacroDefinition> out = new ArrayList<>();
        String header = null;
        for (String line : preprocessed.split("\n")) {
            Matcher marker = LINE_MARKER.matcher(line);
            if (marker.matches()) {
                header = dnnlHeader(marker.group(1));
                continue;
            }
            if (header == null) {
                continue;
            }
            Matcher define = DEFINE.matcher(line);
            if (!define.matches()) {
                continue;
            }
            String name = define.group(1);
            if (!define.group(2).isEmpty()) {
                skipped.add(name + " (" + header + "): function-like macro");
            } else if (define.group(3).isBlank()) {
                skipped.add(name + " (" + header + "): defined without a value");
            } else {
                out.add(new MacroDefinition(name, define.group(3).trim(), header));
            }
        }
        return out;
    }

    /**
     * Builds the model. {@code macroExpansions} maps each macro of {@link #macroDefinitions} to its
     * fully expanded body.
     */
    static HeaderModel parse(String preprocessed, Map<String, String> macroExpansions) {
        HeaderParser p = new HeaderParser();
        List<String> skipped = new ArrayList<>();
        List<MacroDefinition> macros = macroDefinitions(preprocessed, skipped);
        p.skippedMacros.addAll(skipped);
        p.readCode(preprocessed);
        // Macros after the code: their expansions may name enumerators and typedefs.
        for (MacroDefinition m : macros) {
            String expansion = macroExpansions.get(m.name());
            if (expansion == null) {
                throw new IllegalStateException("no expansion for macro " + m.name());
            }
            try {
                Value v = ConstantExpression.evaluate(CToken.tokenize(expansion, m.header()), p.constantValues, p::typedefWidth);
                p.constantValues.put(m.name(), v);
                p.constants.add(new Constant(m.name(), v.value(), v.isLong(), null, m.header()));
            } catch (NotConstant e) {
                p.skippedMacros.add(m.name() + " (" + m.header() + "): " + m.body() + " is not an integer constant ("
                        + e.getMessage() + ")");
            }
        }
        return new HeaderModel(List.copyOf(p.constants), List.copyOf(p.structs), List.copyOf(p.functions), List.copyOf(p.skippedMacros));
    }

    /** Tokenises the code lines (directives dropped) and parses each top-level statement. */
    private void readCode(String preprocessed) {
        String header = null;
        String path = "";
        List<CToken> statement = new ArrayList<>();
        int depth = 0;
        for (String line : preprocessed.split("\n")) {
            Matcher marker = LINE_MARKER.matcher(line);
            if (marker.matches()) {
                path = marker.group(1);
                header = dnnlHeader(path);
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            for (CToken t : CToken.tokenize(line, header == null ? "<" + path + ">" : header)) {
                statement.add(t);
                if (t.is("{") || t.is("(")) {
                    depth++;
                } else if (t.is("}") || t.is(")")) {
                    depth--;
                } else if (t.is(";") && depth == 0) {
                    statement(statement.subList(0, statement.size() - 1));
                    statement = new ArrayList<>();
                }
            }
        }
    }

    private static boolean isDnnl(CToken t) {
        return !t.header().startsWith("<");
    }

    private void statement(List<CToken> tokens) {
        List<CToken> s = new ArrayList<>(tokens);
        while (!s.isEmpty() && s.get(0).is("__extension__")) {
            s.remove(0);
        }
        if (s.isEmpty()) {
            return;
        }
        boolean dnnl = isDnnl(s.get(0));
        if (s.get(0).is("typedef")) {
            try {
                typedef(s.subList(1, s.size()), dnnl);
            } catch (RuntimeException e) {
                if (dnnl) {
                    throw new IllegalStateException("cannot parse typedef in " + s.get(0).header() + ": " + CToken.join(s), e);
                }
                // A system header typedef we cannot read is never needed by oneDNN's API.
            }
            return;
        }
        if (dnnl && isExported(s)) {
            function(stripAttributes(s));
        }
    }

    private static boolean isExported(List<CToken> s) {
        for (int i = 0; i + 3 < s.size(); i++) {
            if (s.get(i).is("__attribute__") && s.get(i + 3).is("visibility")) {
                return true;
            }
        }
        return false;
    }

    /** Removes every {@code __attribute__((...))} from a statement. */
    private static List<CToken> stripAttributes(List<CToken> s) {
        List<CToken> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            if (s.get(i).is("__attribute__")) {
                int depth = 0;
                int j = i + 1;
                do {
                    if (s.get(j).is("(")) {
                        depth++;
                    } else if (s.get(j).is(")")) {
                        depth--;
                    }
                    j++;
                } while (depth > 0);
                i = j - 1;
            } else {
                out.add(s.get(i));
            }
        }
        return out;
    }

    private void typedef(List<CToken> s, boolean dnnl) {
        int open = indexOf(s, "{", 0);
        if (open >= 0) {
            int close = matching(s, open);
            String name = s.get(close + 1).text();
            String keyword = s.get(0).text();
            List<CToken> body = s.subList(open + 1, close);
            switch (keyword) {
                case "enum" -> {
                    typedefs.put(name, CType.ENUM);
                    if (dnnl) {
                        enumerators(name, body);
                    }
                }
                case "struct", "union" -> {
                    typedefs.put(name, CType.STRUCT);
                    if (dnnl) {
                        if (keyword.equals("union")) {
                            throw new IllegalStateException("unions are not bound: " + name);
                        }
                        structs.add(new Struct(name, fields(body), s.get(0).header()));
                    }
                }
                default -> throw new IllegalStateException("unknown aggregate " + keyword);
            }
            return;
        }
        // Function pointer: typedef R (*name)(...)
        int fp = indexOf(s, "(", 0);
        if (fp >= 0 && fp + 2 < s.size() && s.get(fp + 1).is("*")) {
            typedefs.put(s.get(fp + 2).text(), CType.POINTER);
            return;
        }
        int bracket = indexOf(s, "[", 0);
        int nameIndex = (bracket >= 0 ? bracket : s.size()) - 1;
        String name = s.get(nameIndex).text();
        CType base = resolve(s.subList(0, nameIndex));
        typedefs.put(name, bracket >= 0 ? CType.ARRAY : base);
    }

    private void enumerators(String group, List<CToken> body) {
        long next = 0;
        for (List<CToken> item : split(body, ",")) {
            if (item.isEmpty()) {
                continue; // trailing comma
            }
            String name = item.get(0).text();
            long value = next;
            if (item.size() > 1) {
                if (!item.get(1).is("=")) {
                    throw new IllegalStateException("unexpected enumerator syntax: " + CToken.join(item));
                }
                try {
                    value = ConstantExpression.evaluate(item.subList(2, item.size()), constantValues, this::typedefWidth).value();
                } catch (NotConstant e) {
                    throw new IllegalStateException("enumerator " + name + " of " + group + ": " + e.getMessage(), e);
                }
            }
            int asInt = (int) value; // enumerators have type int
            constantValues.put(name, new Value(asInt, false, false));
            constants.add(new Constant(name, asInt, false, group, item.get(0).header()));
            next = (long) asInt + 1;
        }
    }

    private List<Field> fields(List<CToken> body) {
        List<Field> out = new ArrayList<>();
        for (List<CToken> decl : split(body, ";")) {
            if (decl.isEmpty()) {
                continue;
            }
            int bracket = indexOf(decl, "[", 0);
            int nameIndex = (bracket >= 0 ? bracket : decl.size()) - 1;
            List<CToken> type = decl.subList(0, nameIndex);
            CType ct = resolve(type);
            if (ct.kind() == CType.Kind.STRUCT || ct.kind() == CType.Kind.ARRAY || ct.kind() == CType.Kind.VOID) {
                throw new IllegalStateException("unsupported field type: " + CToken.join(decl));
            }
            long count = 0;
            if (bracket >= 0) {
                try {
                    count = ConstantExpression.evaluate(decl.subList(bracket + 1, decl.size() - 1), constantValues, this::typedefWidth).value();
                } catch (NotConstant e) {
                    throw new IllegalStateException("array length of " + CToken.join(decl) + ": " + e.getMessage(), e);
                }
            }
            out.add(new Field(decl.get(nameIndex).text(), ct.carrier(), count, CToken.join(type)));
        }
        return out;
    }

    private void function(List<CToken> s) {
        int open = indexOf(s, "(", 0);
        if (open < 1) {
            throw new IllegalStateException("cannot find the name of exported declaration " + CToken.join(s));
        }
        String name = s.get(open - 1).text();
        CType ret = resolve(s.subList(0, open - 1));
        if (ret.kind() == CType.Kind.STRUCT || ret.kind() == CType.Kind.ARRAY) {
            throw new IllegalStateException(name + " returns a struct or array by value, which the generator does not bind");
        }
        int close = matching(s, open);
        List<Param> params = new ArrayList<>();
        List<List<CToken>> paramDecls = split(s.subList(open + 1, close), ",");
        if (!(paramDecls.size() == 1 && paramDecls.get(0).size() == 1 && paramDecls.get(0).get(0).is("void"))) {
            int index = 0;
            for (List<CToken> decl : paramDecls) {
                if (decl.size() == 1 && decl.get(0).is("...")) {
                    throw new IllegalStateException(name + " is variadic, which the generator does not bind");
                }
                params.add(param(name, decl, index++));
            }
        }
        functions.add(new Function(name, ret.kind() == CType.Kind.VOID ? null : ret.carrier(), List.copyOf(params),
                CToken.join(s), s.get(0).header()));
    }

    private Param param(String function, List<CToken> decl, int index) {
        int bracket = indexOf(decl, "[", 0);
        int end = bracket >= 0 ? bracket : decl.size();
        CToken last = decl.get(end - 1);
        boolean named = last.isIdentifier() && end > 1 && !QUALIFIERS.contains(decl.get(end - 2).text())
                && !last.is("int") && !last.is("long") && !last.is("char");
        List<CToken> type = named ? decl.subList(0, end - 1) : decl.subList(0, end);
        CType ct = bracket >= 0 ? CType.POINTER : resolve(type); // an array parameter is a pointer
        if (ct.kind() == CType.Kind.STRUCT || ct.kind() == CType.Kind.VOID) {
            throw new IllegalStateException(function + ": struct passed by value is not bound: " + CToken.join(decl));
        }
        return new Param(named ? last.text() : "arg" + index, ct.carrier());
    }

    /** Resolves a type written as tokens ({@code const dnnl_dim_t}, {@code unsigned int}, {@code char *}). */
    private CType resolve(List<CToken> tokens) {
        for (CToken t : tokens) {
            if (t.is("*")) {
                return CType.POINTER;
            }
        }
        boolean unsigned = false;
        int longs = 0;
        String base = null;
        String typedefName = null;
        for (CToken t : tokens) {
            if (QUALIFIERS.contains(t.text())) {
                continue;
            }
            switch (t.text()) {
                case "unsigned" -> unsigned = true;
                case "signed", "__signed__" -> { }
                case "long" -> longs++;
                case "int", "char", "short", "float", "double", "void", "_Bool" -> base = t.text();
                default -> typedefName = t.text();
            }
        }
        if (typedefName != null) {
            CType ct = typedefs.get(typedefName);
            if (ct == null) {
                throw new IllegalStateException("unknown type " + typedefName);
            }
            return ct;
        }
        if (longs > 0 && (base == null || base.equals("int"))) {
            return new CType(CType.Kind.SCALAR, Carrier.LONG, 8, unsigned);
        }
        if (base == null) {
            base = "int"; // "unsigned" or "signed" alone
        }
        return switch (base) {
            case "int" -> new CType(CType.Kind.SCALAR, Carrier.INT, 4, unsigned);
            case "char", "_Bool" -> new CType(CType.Kind.SCALAR, Carrier.BYTE, 1, unsigned);
            case "short" -> new CType(CType.Kind.SCALAR, Carrier.SHORT, 2, unsigned);
            case "float" -> new CType(CType.Kind.SCALAR, Carrier.FLOAT, 4, false);
            case "double" -> new CType(CType.Kind.SCALAR, Carrier.DOUBLE, 8, false);
            case "void" -> CType.VOID;
            default -> throw new IllegalStateException("unknown base type " + base);
        };
    }

    /** Width of an integer typedef (negative when unsigned), or null when it is no integer type. */
    private Integer typedefWidth(String name) {
        CType ct = typedefs.get(name);
        if (ct == null || (ct.kind() != CType.Kind.SCALAR && ct.kind() != CType.Kind.ENUM)
                || ct.carrier() == Carrier.FLOAT || ct.carrier() == Carrier.DOUBLE) {
            return null;
        }
        return ct.unsigned() ? -ct.width() : ct.width();
    }

    private static int indexOf(List<CToken> s, String text, int from) {
        for (int i = from; i < s.size(); i++) {
            if (s.get(i).is(text)) {
                return i;
            }
        }
        return -1;
    }

    private static int matching(List<CToken> s, int open) {
        String o = s.get(open).text();
        String c = o.equals("{") ? "}" : o.equals("(") ? ")" : "]";
        int depth = 0;
        for (int i = open; i < s.size(); i++) {
            if (s.get(i).is(o)) {
                depth++;
            } else if (s.get(i).is(c) && --depth == 0) {
                return i;
            }
        }
        throw new IllegalStateException("unbalanced '" + o + "' in " + CToken.join(s));
    }

    /** Splits at top-level separators (not inside parentheses, brackets or braces). */
    private static List<List<CToken>> split(List<CToken> s, String separator) {
        List<List<CToken>> out = new ArrayList<>();
        List<CToken> current = new ArrayList<>();
        int depth = 0;
        for (CToken t : s) {
            if (t.is("(") || t.is("[") || t.is("{")) {
                depth++;
            } else if (t.is(")") || t.is("]") || t.is("}")) {
                depth--;
            }
            if (depth == 0 && t.is(separator)) {
                out.add(current);
                current = new ArrayList<>();
            } else {
                current.add(t);
            }
        }
        out.add(current);
        return out;
    }
}

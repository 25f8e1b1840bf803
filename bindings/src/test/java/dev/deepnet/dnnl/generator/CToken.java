package dev.deepnet.dnnl.generator;

import java.util.ArrayList;
import java.util.List;

/** A token of preprocessed C, with the header it came from (per gcc's line markers). */
record CToken(Kind kind, String text, String header) {

    enum Kind { IDENTIFIER, NUMBER, STRING, CHAR, PUNCT }

    boolean is(String s) {
        return text.equals(s);
    }

    boolean isIdentifier() {
        return kind == Kind.IDENTIFIER;
    }

    @Override
    public String toString() {
        return text;
    }

    private static final String[] MULTI_CHAR_PUNCT = {"...", "<<=", ">>=", "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "##"};

    /** Splits one line of C (no directives, no comments: gcc -E removed them) into tokens. */
    static List<CToken> tokenize(String code, String header) {
        List<CToken> out = new ArrayList<>();
        int i = 0;
        int n = code.length();
        while (i < n) {
            char c = code.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(code.charAt(j)) || code.charAt(j) == '_')) {
                    j++;
                }
                out.add(new CToken(Kind.IDENTIFIER, code.substring(i, j), header));
                i = j;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(code.charAt(i + 1)))) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(code.charAt(j)) || code.charAt(j) == '.')) {
                    j++;
                }
                out.add(new CToken(Kind.NUMBER, code.substring(i, j), header));
                i = j;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && code.charAt(j) != c) {
                    j += code.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, n);
                out.add(new CToken(c == '"' ? Kind.STRING : Kind.CHAR, code.substring(i, j), header));
                i = j;
            } else {
                String punct = String.valueOf(c);
                for (String p : MULTI_CHAR_PUNCT) {
                    if (code.startsWith(p, i)) {
                        punct = p;
                        break;
                    }
                }
                out.add(new CToken(Kind.PUNCT, punct, header));
                i += punct.length();
            }
        }
        return out;
    }

    /** The tokens joined the way a person would write them (for doc comments). */
    static String join(List<CToken> tokens) {
        StringBuilder sb = new StringBuilder();
        CToken prev = null;
        for (CToken t : tokens) {
            if (prev != null && needsSpace(prev, t)) {
                sb.append(' ');
            }
            sb.append(t.text());
            prev = t;
        }
        return sb.toString();
    }

    private static boolean needsSpace(CToken prev, CToken next) {
        if (next.is(",") || next.is(")") || next.is("[") || next.is("]") || next.is(";")) {
            return false;
        }
        if (prev.is("(") || prev.is("[") || (prev.is("*") && next.isIdentifier() && !next.is("const"))) {
            return false;
        }
        if (next.is("(") && prev.isIdentifier()) {
            return false;
        }
        return true;
    }
}

package dev.deepnet.lab.experiments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/** One self-contained HTML page (figures embedded as data URIs, no network): claims against measurements. */
public final class LabReport {
    private LabReport() {}

    public static Path write(Path dir, List<Experiment.Result> results, String environment) throws IOException {
        StringBuilder h = new StringBuilder("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>deepnet lab: deep neural nets, the lecture's experiments</title>
                <style>
                body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
                table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
                td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
                .held { color: #070; font-weight: bold; } .failed { color: #a00; font-weight: bold; }
                img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
                </style></head><body>
                <h1>deepnet lab</h1>
                <p>Each experiment of MIT 6.034's lecture on deep neural nets, run by deepnet on built-in, seeded data.</p>
                """);
        h.append("<p>").append(escape(environment)).append("</p>\n");
        h.append("<table><tr><th>experiment</th><th>the lecture's claim</th><th>held?</th></tr>\n");
        for (Experiment.Result r : results) {
            h.append("<tr><td><a href=\"#").append(r.name()).append("\">").append(escape(r.name())).append("</a></td><td>")
                    .append(escape(r.claim())).append("</td><td class=\"").append(r.claimHeld() ? "held\">yes" : "failed\">no")
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (Experiment.Result r : results) {
            h.append("<h2 id=\"").append(r.name()).append("\">").append(escape(r.title())).append("</h2>\n");
            h.append("<p><b>The lecture:</b> ").append(escape(r.claim())).append("</p>\n");
            h.append("<p><b>Measured:</b> ").append(escape(r.measured())).append("</p>\n");
            for (Path png : r.figures()) {
                h.append("<img alt=\"").append(escape(png.getFileName().toString())).append("\" src=\"data:image/png;base64,")
                        .append(Base64.getEncoder().encodeToString(Files.readAllBytes(png))).append("\">\n");
            }
            for (Experiment.Table t : r.tables()) {
                h.append("<table><caption>").append(escape(t.caption())).append("</caption><tr>");
                for (String head : t.headers()) {
                    h.append("<th>").append(escape(head)).append("</th>");
                }
                h.append("</tr>\n");
                for (List<String> row : t.rows()) {
                    h.append("<tr>");
                    for (String cell : row) {
                        h.append("<td>").append(escape(cell)).append("</td>");
                    }
                    h.append("</tr>\n");
                }
                h.append("</table>\n");
            }
        }
        h.append("</body></html>\n");
        Path index = dir.resolve("index.html");
        Files.createDirectories(dir);
        Files.writeString(index, h.toString(), StandardCharsets.UTF_8);
        return index;
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

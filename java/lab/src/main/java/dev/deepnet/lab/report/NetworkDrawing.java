package dev.deepnet.lab.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The lecture's picture of a network: neurons in columns, shaded by activation (white 0 to black
 * 1), each connection green for a positive weight and red for a negative one, its intensity
 * proportional to |weight| (relative to the largest in the net).
 */
public final class NetworkDrawing {
    private NetworkDrawing() {}

    /**
     * @param weights  per layer, the (out, in) weight matrix as rows
     * @param activations per column of neurons (input first), values in [0, 1]
     */
    public static void draw(Path png, String title, List<float[][]> weights, List<float[]> activations) throws IOException {
        int columns = activations.size();
        int maxNeurons = activations.stream().mapToInt(a -> a.length).max().orElse(1);
        int width = 160 + (columns - 1) * 220;
        int height = 90 + maxNeurons * 40;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 10, 20);
        double maxWeight = 1e-9;
        for (float[][] w : weights) {
            for (float[] row : w) {
                for (float v : row) {
                    maxWeight = Math.max(maxWeight, Math.abs(v));
                }
            }
        }
        double[][] xs = new double[columns][];
        double[][] ys = new double[columns][];
        for (int c = 0; c < columns; c++) {
            int n = activations.get(c).length;
            xs[c] = new double[n];
            ys[c] = new double[n];
            for (int i = 0; i < n; i++) {
                xs[c][i] = 80 + c * 220;
                // neuron 0 at the bottom: the lecture draws height (and layers) from the ground up
                ys[c][i] = 60 + (maxNeurons - n) * 20 + (n - 1 - i) * 40 + 20;
            }
        }
        g.setStroke(new BasicStroke(2f));
        for (int l = 0; l < weights.size(); l++) {
            float[][] w = weights.get(l);
            for (int o = 0; o < w.length; o++) {
                for (int i = 0; i < w[o].length; i++) {
                    double strength = Math.min(1, Math.abs(w[o][i]) / maxWeight);
                    int fade = (int) Math.round(255 * (1 - strength));
                    g.setColor(w[o][i] >= 0 ? new Color(fade, 255 - (255 - fade) / 3, fade) : new Color(255, fade, fade));
                    g.draw(new Line2D.Double(xs[l][i], ys[l][i], xs[l + 1][o], ys[l + 1][o]));
                }
            }
        }
        for (int c = 0; c < columns; c++) {
            float[] a = activations.get(c);
            for (int i = 0; i < a.length; i++) {
                int shade = (int) Math.round(255 * (1 - Math.max(0, Math.min(1, a[i]))));
                Ellipse2D circle = new Ellipse2D.Double(xs[c][i] - 13, ys[c][i] - 13, 26, 26);
                g.setColor(new Color(shade, shade, shade));
                g.fill(circle);
                g.setColor(Color.BLACK);
                g.draw(circle);
            }
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }
}

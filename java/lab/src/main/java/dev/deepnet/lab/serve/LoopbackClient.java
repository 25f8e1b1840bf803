package dev.deepnet.lab.serve;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The load test's HTTP/1.1 client: one kept-alive connection, one request at a time, each written
 * in one go and its response read by its {@code Content-Length}. Blocking and allocation-light on
 * purpose: on a 2-core machine the clients share the cores with the server, so a heavier client
 * (java.net.http's, with its selector thread and futures) would measure itself more than the server.
 */
final class LoopbackClient implements AutoCloseable {

    private final URI uri;
    private final String path;
    private final String contentType;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private byte[] lastBody = new byte[0];

    LoopbackClient(URI server, String path, String contentType) {
        this.uri = server;
        this.path = path;
        this.contentType = contentType;
    }

    /** POSTs {@code body} and returns the status; reconnects when the server closed the connection. */
    int post(byte[] body) throws IOException {
        if (socket == null) {
            connect();
        }
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\nContent-Type: " + contentType
                + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        out.write(request);
        out.flush();
        return readResponse();
    }

    /** The body of the last response. */
    byte[] lastBody() {
        return lastBody;
    }

    private void connect() throws IOException {
        socket = new Socket(uri.getHost(), uri.getPort());
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(60_000);
        in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        out = socket.getOutputStream();
    }

    private int readResponse() throws IOException {
        String status = line();
        if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
            throw new IOException("not an HTTP/1.1 response: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean close = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(h.substring(15).strip());
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            }
        }
        if (length < 0) {
            throw new IOException("a response without Content-Length (status " + code + ")");
        }
        lastBody = in.readNBytes((int) length);
        if (lastBody.length != length) {
            throw new IOException("the connection closed in a response body");
        }
        if (close) {
            close();
        }
        return code;
    }

    private final ByteArrayOutputStream lineBuffer = new ByteArrayOutputStream(128);

    private String line() throws IOException {
        lineBuffer.reset();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the server closed the connection");
            }
            if (b != '\r') {
                lineBuffer.write(b);
            }
        }
        return lineBuffer.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            Socket s = socket;
            socket = null;
            s.close();
        }
    }
}

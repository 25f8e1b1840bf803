package dev.deepnet.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** Whole files in and out of the file systems the session's Hadoop configuration reaches. */
final class HadoopFiles {
    private HadoopFiles() {}

    /** Model files are read whole into a broadcast: a file past this is refused, not half-read. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    static byte[] read(SparkSession spark, Path file) throws IOException {
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        long length = fs.getFileStatus(file).getLen();
        if (length > MAX_BYTES) {
            throw new IOException(file + ": " + length + " bytes is more than a broadcast model may have (" + MAX_BYTES + ")");
        }
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }

    static void write(SparkSession spark, Path file, byte[] data) throws IOException {
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, false)) {
            out.write(data);
        }
    }
}

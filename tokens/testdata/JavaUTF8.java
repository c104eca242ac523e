// Writes java_utf8.tsv: each input line (hex bytes) with what the JDK's
// UTF-8 decoder makes of it, through the call Elasticsearch uses for a
// bearer token's content (CharArrays.utf8BytesToChars ->
// StandardCharsets.UTF_8.decode). Run from this directory with a JDK 17+:
//
//   java JavaUTF8.java < java_utf8.in > java_utf8.tsv
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

public class JavaUTF8 {
  public static void main(String[] args) throws Exception {
    System.out.println("# bytes (hex)\tUTF-16 code units StandardCharsets.UTF_8.decode returns (hex, space-separated)");
    System.out.println("# written by JavaUTF8.java on " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    for (String line; (line = in.readLine()) != null; ) {
      line = line.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        System.out.println(line);
        continue;
      }
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(HexFormat.of().parseHex(line)));
      StringBuilder units = new StringBuilder();
      while (chars.hasRemaining()) {
        units.append(units.length() == 0 ? "" : " ").append(String.format("%04x", (int) chars.get()));
      }
      System.out.println(line + "\t" + units);
    }
  }
}

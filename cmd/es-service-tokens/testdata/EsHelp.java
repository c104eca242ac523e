// Prints what Elasticsearch's elasticsearch-service-tokens prints for
// "create -h", "delete -h" and "list -h" (8.x and 9.x): each command's
// description, a blank line, then joptsimple's help for the parser that
// Command, EnvironmentAwareCommand and FileTokensTool build. The files
// script/es_help.txtar compares against were written by it:
//
//   java -cp /usr/share/java/joptsimple.jar EsHelp.java list
//
// (joptsimple from Debian's libjoptsimple-java, 5.0.4; Elasticsearch ships
// 5.0.2, whose BuiltinHelpFormatter is the same.)
import java.util.Arrays;
import joptsimple.OptionParser;
import joptsimple.OptionSpec;
import joptsimple.util.KeyValuePair;

public class EsHelp {
  public static void main(String[] args) throws Exception {
    String description, nonOptions;
    switch (args[0]) {
      case "create":
        description = "Create a file token for specified service account and token name";
        nonOptions = "service-account-principal token-name";
        break;
      case "delete":
        description = "Remove a file token for specified service account and token name";
        nonOptions = "service-account-principal token-name";
        break;
      default:
        description = "List file tokens for the specified service account";
        nonOptions = "service-account-principal";
    }
    OptionParser parser = new OptionParser();
    parser.acceptsAll(Arrays.asList("h", "help"), "Show help").forHelp();
    OptionSpec<Void> silent = parser.acceptsAll(Arrays.asList("s", "silent"), "Show minimal output");
    parser.acceptsAll(Arrays.asList("v", "verbose"), "Show verbose output").availableUnless(silent);
    parser.accepts("E", "Configure a setting").withRequiredArg().ofType(KeyValuePair.class);
    parser.nonOptions(nonOptions);
    System.out.println(description);
    System.out.println("");
    parser.printHelpOn(System.out);
  }
}

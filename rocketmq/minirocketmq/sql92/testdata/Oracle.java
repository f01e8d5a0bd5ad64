// Oracle evaluates testdata/cases.txt with the real broker's filter module.
//
//   javac -cp "/opt/rocketmq-4.9.4/lib/*" -d /tmp/oracle Oracle.java
//   java -cp "/tmp/oracle:/opt/rocketmq-4.9.4/lib/*" Oracle < cases.txt > java_results.txt
import java.io.*;
import java.util.*;
import org.apache.rocketmq.filter.expression.*;
import org.apache.rocketmq.filter.parser.SelectorParser;

public class Oracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("#") || line.indexOf('\t') < 0) continue;
            String[] parts = line.split("\t", 2);
            final Map<String, Object> props = new HashMap<>();
            if (!parts[1].equals("-")) {
                for (String kv : parts[1].split(",")) {
                    int eq = kv.indexOf('=');
                    props.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            String out;
            try {
                BooleanExpression e = SelectorParser.parse(parts[0]);
                try {
                    Object v = e.evaluate(new EvaluationContext() {
                        public Object get(String name) { return props.get(name); }
                        public Map<String, Object> keyValues() { return props; }
                    });
                    out = "VALUE " + v + " MATCH " + e.matches(new EvaluationContext() {
                        public Object get(String name) { return props.get(name); }
                        public Map<String, Object> keyValues() { return props; }
                    });
                } catch (Throwable t) {
                    out = "EVALERROR";
                }
            } catch (MQFilterException ex) {
                out = "COMPILEERROR " + ex.getCause().getClass().getName() + " " + ex.getCause().toString().replace("\n", "\\n").replace("\r", "");
            }
            System.out.println(out);
        }
    }
}

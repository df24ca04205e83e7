// java-log4j2: Apache Log4j 2 API + core, configured by log4j2.xml with the
// documented default PatternLayout "%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n".
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

public class Log4jApp {
    static Service.Log wrap(Logger l) {
        return new Service.Log() {
            public void trace(String m) { l.trace(m); } public void debug(String m) { l.debug(m); }
            public void info(String m) { l.info(m); } public void warn(String m) { l.warn(m); }
            public void warn(String m, Throwable t) { l.warn(m, t); } public void error(String m, Throwable t) { l.error(m, t); }
            public void fatal(String m, Throwable t) { l.fatal(m, t); }
        };
    }
    public static void main(String[] a) throws Exception {
        new Service(wrap(LogManager.getLogger("com.acme.invoice.InvoiceService")), wrap(LogManager.getLogger("com.acme.invoice.db.LedgerRepository"))).run();
        LogManager.shutdown();
    }
}

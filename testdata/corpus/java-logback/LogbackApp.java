// java-logback: SLF4J API + Logback classic with NO configuration file, i.e.
// BasicConfigurator's console appender "%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n"
// at DEBUG (so trace() is dropped); SLF4J has no fatal, it is logged as error.
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class LogbackApp {
    static Service.Log wrap(Logger l) {
        return new Service.Log() {
            public void trace(String m) { l.trace(m); } public void debug(String m) { l.debug(m); }
            public void info(String m) { l.info(m); } public void warn(String m) { l.warn(m); }
            public void warn(String m, Throwable t) { l.warn(m, t); } public void error(String m, Throwable t) { l.error(m, t); }
            public void fatal(String m, Throwable t) { l.error(m, t); }
        };
    }
    public static void main(String[] a) throws Exception {
        new Service(wrap(LoggerFactory.getLogger("com.acme.invoice.InvoiceService")), wrap(LoggerFactory.getLogger("com.acme.invoice.db.LedgerRepository"))).run();
    }
}

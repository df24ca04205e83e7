// java-jul: java.util.logging with the JDK's ConsoleHandler + SimpleFormatter
// (default two-line format) to stderr; logging.properties only lowers the
// levels to ALL so that CONFIG/FINE/FINER/FINEST records appear.
import java.util.logging.Level;
import java.util.logging.Logger;

public class JulApp {
    static Service.Log wrap(Logger l) {
        return new Service.Log() {
            // logp() with the adapter's caller, so the header names Service's method
            void at(Level lv, String m, Throwable t) {
                StackWalker.StackFrame f = StackWalker.getInstance().walk(s -> s.skip(2).findFirst()).get();
                l.logp(lv, f.getClassName(), f.getMethodName(), m, t);
            }
            public void trace(String m) { at(Level.FINEST, m, null); } public void debug(String m) { at(Level.FINE, m, null); }
            public void info(String m) { at(Level.INFO, m, null); } public void warn(String m) { at(Level.WARNING, m, null); }
            public void warn(String m, Throwable t) { at(Level.WARNING, m, t); } public void error(String m, Throwable t) { at(Level.SEVERE, m, t); }
            public void fatal(String m, Throwable t) { at(Level.SEVERE, m, t); }
        };
    }
    public static void main(String[] a) throws Exception {
        Logger svc = Logger.getLogger("com.acme.invoice.InvoiceService");
        svc.config("rates.timeout=150ms");
        svc.finer("ENTRY main");
        new Service(wrap(svc), wrap(Logger.getLogger("com.acme.invoice.db.LedgerRepository"))).run();
        svc.finer("RETURN main");
    }
}

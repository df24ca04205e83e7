// Shared body of the JVM logging programs: a small "invoice service" with a
// local com.sun.net.httpserver backend, a thread pool of workers calling it
// through java.net.http.HttpClient (timeouts, 5xx, bad payloads), chained
// exceptions, start-up and shutdown. Each App class supplies the Log adapter.
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import com.sun.net.httpserver.HttpServer;

public class Service {
    public interface Log {
        void trace(String m); void debug(String m); void info(String m); void warn(String m);
        void warn(String m, Throwable t); void error(String m, Throwable t); void fatal(String m, Throwable t);
    }

    static class LedgerException extends Exception {
        LedgerException(String m, Throwable cause) { super(m, cause); }
    }

    final Log log, dbLog;
    final Random rnd = new Random(31);
    final Map<String, Integer> ledger = new ConcurrentHashMap<>();
    final AtomicInteger ok = new AtomicInteger(), failed = new AtomicInteger();
    HttpServer server;
    HttpClient client;
    int port;

    public Service(Log log, Log dbLog) { this.log = log; this.dbLog = dbLog; }

    void startBackend() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        Random r = new Random(77);
        server.createContext("/rates", ex -> {
            double x; synchronized (r) { x = r.nextDouble(); }
            String body; int code = 200;
            if (x < 0.06) { try { Thread.sleep(400); } catch (InterruptedException e) { } body = "{\"rate\":1.0}"; }
            else if (x < 0.11) { code = 503; body = "upstream unavailable"; }
            else if (x < 0.15) { body = "rate=1,08"; }
            else { body = String.format("{\"rate\":%.4f}", 0.8 + x / 2); }
            byte[] b = body.getBytes();
            try { ex.sendResponseHeaders(code, b.length); OutputStream os = ex.getResponseBody(); os.write(b); os.close(); }
            catch (IOException e) { /* client went away after its timeout */ }
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        port = server.getAddress().getPort();
    }

    double fetchRate(String currency) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/rates?c=" + currency))
                .timeout(Duration.ofMillis(150)).GET().build();
        HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
        if (resp.statusCode() != 200) throw new IOException("rates service returned HTTP " + resp.statusCode() + ": " + resp.body());
        String b = resp.body();
        if (!b.startsWith("{")) throw new IllegalStateException("unexpected rates payload: " + b);
        return Double.parseDouble(b.substring(b.indexOf(':') + 1, b.length() - 1));
    }

    void book(String invoice, long cents) throws LedgerException {
        try {
            if (ledger.containsKey(invoice)) throw new IllegalArgumentException("duplicate key value violates unique constraint \"ledger_pkey\": " + invoice);
            ledger.put(invoice, (int) cents);
            dbLog.trace("INSERT INTO ledger(invoice, cents) VALUES ('" + invoice + "', " + cents + ")");
        } catch (IllegalArgumentException e) {
            throw new LedgerException("could not book invoice " + invoice, e);
        }
    }

    void handle(int n, String invoice, String amount, String currency) {
        log.debug("processing invoice " + invoice + " amount=" + amount + " currency=" + currency);
        long cents;
        try {
            cents = Math.round(Double.parseDouble(amount) * 100);
        } catch (NumberFormatException e) {
            log.warn("rejecting invoice " + invoice + ": amount is not a number", e);
            failed.incrementAndGet();
            return;
        }
        double rate = 0;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                rate = fetchRate(currency);
                break;
            } catch (HttpTimeoutException e) {
                log.warn("rates request timed out (attempt " + attempt + "/3) for " + invoice);
                if (attempt == 3) { log.error("giving up on invoice " + invoice + " after 3 attempts", e); failed.incrementAndGet(); return; }
            } catch (IOException e) {
                log.warn("rates service error for " + invoice + ": " + e.getMessage() + ", retrying in " + (50 * attempt) + " ms");
                if (attempt == 3) { log.error("giving up on invoice " + invoice, e); failed.incrementAndGet(); return; }
                try { Thread.sleep(50L * attempt); } catch (InterruptedException ie) { return; }
            } catch (IllegalStateException | InterruptedException e) {
                log.error("cannot convert invoice " + invoice, e);
                failed.incrementAndGet();
                return;
            }
        }
        try {
            book(invoice, Math.round(cents * rate));
        } catch (LedgerException e) {
            dbLog.error("ledger write failed for " + invoice, e);
            failed.incrementAndGet();
            return;
        }
        ok.incrementAndGet();
        if (cents > 900000) log.info("large invoice " + invoice + " booked: " + cents + " cents " + currency);
        else log.debug("invoice " + invoice + " booked");
    }

    public void run() throws Exception {
        log.info("Starting invoice-service 2.7.0 on Java " + System.getProperty("java.version") + " (pid " + ProcessHandle.current().pid() + ")");
        log.debug("configuration: workers=4 ratesTimeout=150ms retries=3");
        startBackend();
        log.info("rates backend listening on 127.0.0.1:" + port);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        dbLog.info("HikariPool-1 - Starting...");
        dbLog.info("HikariPool-1 - Start completed.");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        String[] cur = {"EUR", "USD", "GBP", "CHF"};
        String[] recent = new String[8];
        for (int i = 1; i <= 220; i++) {
            final int n = i;
            String inv = (rnd.nextInt(20) == 0 && recent[i % 8] != null) ? recent[(i + 3) % 8] : String.format("INV-%06d", rnd.nextInt(1000000));
            if (inv == null) inv = String.format("INV-%06d", rnd.nextInt(1000000));
            recent[i % 8] = inv;
            String amt = rnd.nextInt(25) == 0 ? "12,50" : String.format("%.2f", rnd.nextDouble() * 12000);
            final String fi = inv, fa = amt, fc = cur[rnd.nextInt(4)];
            pool.submit(() -> handle(n, fi, fa, fc));
            if (i % 50 == 0) {
                Thread.sleep(100);
                log.info("progress: submitted=" + i + " booked=" + ok.get() + " failed=" + failed.get());
            }
            if (i == 120) {
                dbLog.warn("HikariPool-1 - Connection is not available, request timed out after 30000ms.");
                try {
                    throw new UncheckedIOException("Connection reset", new java.net.SocketException("Connection reset by peer"));
                } catch (UncheckedIOException e) {
                    dbLog.fatal("HikariPool-1 - lost connection to primary database, failing over", e);
                }
            }
        }
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.SECONDS)) log.warn("workers did not finish in time");
        log.info("Shutting down: booked=" + ok.get() + " failed=" + failed.get());
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
        dbLog.info("HikariPool-1 - Shutdown completed.");
    }
}

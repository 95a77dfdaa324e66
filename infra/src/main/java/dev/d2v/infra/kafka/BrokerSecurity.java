package dev.d2v.infra.kafka;

import dev.d2v.infra.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The TLS and SCRAM material of a local broker started with {@code --security sasl_ssl}, made on its first start
 * under {@code <data-dir>/security} with the JDK's keytool (nothing is downloaded): a self-signed RSA key pair for
 * CN=localhost with the subject alternative names localhost and 127.0.0.1 in {@code broker.p12}, its certificate
 * in a client truststore {@code truststore.p12}, and random passwords for both stores, the broker's own SCRAM user
 * ({@value #ADMIN_USER}, inter-broker) and the pipeline's ({@value #CLIENT_USER}) in {@code credentials.properties}.
 * The folder and every file in it are readable by their owner only.
 *
 * <p>The broker then listens with SASL_SSL (TLS 1.2/1.3, SCRAM-SHA-512) for clients; its controller listener stays
 * PLAINTEXT on 127.0.0.1 (KRaft cannot authenticate a controller with SCRAM: the credentials live in the metadata
 * that the controller serves), which no pipeline client uses.
 *
 * @param dir                the security folder
 * @param keystorePassword   broker.p12's store and key password
 * @param truststorePassword truststore.p12's password
 * @param adminPassword      the broker's own SCRAM user's password
 * @param clientPassword     the pipeline user's password
 */
public record BrokerSecurity(Path dir, String keystorePassword, String truststorePassword, String adminPassword,
                             String clientPassword) {

    public static final String ADMIN_USER = "d2v-broker";
    public static final String CLIENT_USER = "d2v";
    public static final String MECHANISM = "SCRAM-SHA-512";
    private static final String SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";

    /** The material under dataDir/security, made on the first call. */
    public static BrokerSecurity ensure(Path dataDir) {
        Path dir = dataDir.resolve("security");
        Path credentials = dir.resolve("credentials.properties");
        try {
            if (Files.isRegularFile(credentials) && Files.isRegularFile(dir.resolve("broker.p12"))
                    && Files.isRegularFile(dir.resolve("truststore.p12"))) {
                return read(dir, credentials);
            }
            PrivateFiles.createDirectory(dir);
            BrokerSecurity s = new BrokerSecurity(dir, password(), password(), password(), password());
            s.makeStores();
            Properties p = new Properties();
            p.put("keystore.password", s.keystorePassword);
            p.put("truststore.password", s.truststorePassword);
            p.put("admin.password", s.adminPassword);
            p.put("client.password", s.clientPassword);
            PrivateFiles.write(credentials, out -> p.store(out, "d2v local broker credentials: keep private"));
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the local broker's TLS and SCRAM material in " + dir, e);
        }
    }

    private static BrokerSecurity read(Path dir, Path credentials) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(credentials)) {
            p.load(in);
        }
        return new BrokerSecurity(dir, p.getProperty("keystore.password"), p.getProperty("truststore.password"),
                p.getProperty("admin.password"), p.getProperty("client.password"));
    }

    public Path keystore() {
        return dir.resolve("broker.p12");
    }

    public Path truststore() {
        return dir.resolve("truststore.p12");
    }

    /** The broker's settings for a SASL_SSL client listener on port and a PLAINTEXT controller listener. */
    Map<String, String> serverProperties(int port, int controllerPort) {
        Map<String, String> p = new TreeMap<>();
        p.put("listeners", "SASL_SSL://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + port);
        p.put("inter.broker.listener.name", "SASL_SSL");
        p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT");
        p.put("sasl.enabled.mechanisms", MECHANISM);
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", jaas(ADMIN_USER, adminPassword));
        p.put("ssl.keystore.location", keystore().toString());
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.password", keystorePassword);
        p.put("ssl.key.password", keystorePassword);
        p.put("ssl.truststore.location", truststore().toString());
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.password", truststorePassword);
        return p;
    }

    /** StorageTool format arguments that create both SCRAM users in the new cluster's metadata. */
    List<String> formatArguments() {
        return List.of("--add-scram", MECHANISM + "=[name=" + ADMIN_USER + ",password=" + adminPassword + "]",
                "--add-scram", MECHANISM + "=[name=" + CLIENT_USER + ",password=" + clientPassword + "]");
    }

    /** What a pipeline client needs: SASL_SSL, SCRAM-SHA-512 as {@value #CLIENT_USER}, the broker's certificate. */
    public Map<String, String> clientProperties() {
        Map<String, String> p = new TreeMap<>();
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", jaas(CLIENT_USER, clientPassword));
        p.put("ssl.truststore.location", truststore().toString());
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.password", truststorePassword);
        return p;
    }

    static String jaas(String user, String password) {
        return SCRAM_MODULE + " required username=\"" + user + "\" password=\"" + password + "\";";
    }

    /** keytool: the broker's key pair, its certificate exported, imported into the client truststore. */
    private void makeStores() throws IOException {
        Path cert = dir.resolve("broker.crt");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                "-dname", "CN=localhost, OU=d2v local broker", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-keystore", keystore().toString(), "-storetype", "PKCS12", "-storepass", keystorePassword,
                "-keypass", keystorePassword);
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore().toString(), "-storetype", "PKCS12",
                "-storepass", keystorePassword, "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "d2v-local-broker", "-file", cert.toString(), "-keystore",
                truststore().toString(), "-storetype", "PKCS12", "-storepass", truststorePassword);
        for (Path f : List.of(keystore(), truststore(), cert)) {
            PrivateFiles.restrict(f);
        }
    }

    private static void keytool(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("keytool " + args[0] + " failed: " + output.trim());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running keytool", e);
        }
    }

    /** 24 random letters and digits: safe inside a JAAS string and a StorageTool argument. */
    private static String password() {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom r = new SecureRandom();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** Never prints a password. */
    @Override
    public String toString() {
        return "BrokerSecurity[" + dir + "]";
    }
}

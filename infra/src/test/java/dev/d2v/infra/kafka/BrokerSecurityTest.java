package dev.d2v.infra.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerSecurityTest {

    @TempDir
    Path dir;

    @Test
    void theMaterialIsMadeOnceOwnerOnlyAndTheCertificateNamesTheLoopbackAddress() throws Exception {
        BrokerSecurity s = BrokerSecurity.ensure(dir);
        assertThat(s.clientPassword()).hasSize(24).isNotEqualTo(s.adminPassword());
        assertThat(BrokerSecurity.ensure(dir)).as("the second start reads what the first made").isEqualTo(s);
        for (Path f : List.of(s.dir(), s.keystore(), s.truststore(), s.dir().resolve("credentials.properties"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(f.toString())
                    .isIn("rw-------", "rwx------");
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(s.truststore())) {
            trust.load(in, s.truststorePassword().toCharArray());
        }
        X509Certificate cert = (X509Certificate) trust.getCertificate("d2v-local-broker");
        assertThat(cert.getSubjectX500Principal().getName()).contains("CN=localhost");
        assertThat(cert.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .contains("127.0.0.1", "localhost");
        assertThat(s.clientProperties()).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", s.truststore().toString());
        assertThat(s.clientProperties().get("sasl.jaas.config")).contains("username=\"d2v\"")
                .contains("password=\"" + s.clientPassword() + "\"");
        assertThat(s.toString()).doesNotContain(s.clientPassword());
        assertThat(s.formatArguments()).containsExactly("--add-scram",
                "SCRAM-SHA-512=[name=d2v-broker,password=" + s.adminPassword() + "]", "--add-scram",
                "SCRAM-SHA-512=[name=d2v,password=" + s.clientPassword() + "]");
    }

    @Test
    void securityModesParse() {
        assertThat(LocalKafka.Security.parse("sasl_ssl")).isEqualTo(LocalKafka.Security.SASL_SSL);
        assertThat(LocalKafka.Security.parse(" PLAINTEXT ")).isEqualTo(LocalKafka.Security.PLAINTEXT);
        assertThatThrownBy(() -> LocalKafka.Security.parse("ssl")).hasMessageContaining("plaintext or sasl_ssl");
    }
}

package dev.d2v.preprocess.transform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BadRecordExceptionTest {

    @Test
    void aClassifiedFailureKeepsItsCodeAndAnyOtherIsAnErrorNamedByItsClass() {
        RuntimeException classified = null;
        try {
            BadRecordException.checkSize(new byte[0], 10, "image");
        } catch (RuntimeException e) {
            classified = e;
        }
        assertThat(BadRecordException.reasonOf(classified)).isEqualTo(BadRecordException.EMPTY);
        assertThat(BadRecordException.messageOf(classified)).isEqualTo("empty: image record has no bytes");

        RuntimeException other = new ArrayIndexOutOfBoundsException("Index 9 out of bounds for length 4");
        assertThat(BadRecordException.reasonOf(other)).isEqualTo(BadRecordException.ERROR);
        assertThat(BadRecordException.messageOf(other))
                .isEqualTo("ArrayIndexOutOfBoundsException: Index 9 out of bounds for length 4");
    }
}

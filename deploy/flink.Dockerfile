# The Flink image of the preprocessing FlinkDeployments (deploy/k8s/flink-preprocess.yaml): Flink 2.2 on
# Java 17 with the shaded job jar where the operator's jarURI points (local:///opt/flink/usrlib/...).
#
# Build from the repository root (the job jar leaves Flink out: the image provides it):
#
#   mvn -B -pl preprocess/flink -am package -DskipTests
#   docker build -f deploy/flink.Dockerfile -t d2v-flink:0.1.0 .
FROM flink:2.2-java17

COPY --chown=flink:flink preprocess/flink/target/d2v-preprocess-flink-0.1.0-SNAPSHOT-job.jar /opt/flink/usrlib/d2v-preprocess-job.jar

// A shared library without edgepipe_pipeline_v1, for cli_pipeline_test.
extern "C" int not_a_pipeline() { return 42; }

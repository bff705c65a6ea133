//! Every piece of UI text, in English and Spanish, in one place. A string is added once, with both
//! languages side by side; a missing translation does not compile.

use serde::{Deserialize, Serialize};

use super::tab::Tab;
use crate::core::drift::DriftTest;

/// The UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Self::En => &EN,
            Self::Es => &ES,
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Es => "Español",
        }
    }

    /// Two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "EN",
            Self::Es => "ES",
        }
    }
}

macro_rules! strings {
    ($($field:ident: $en:literal, $es:literal;)*) => {
        /// The UI text of one language (each field's English text says what it is).
        #[allow(missing_docs)]
        pub struct Strings { $(pub $field: &'static str,)* }
        /// English.
        pub const EN: Strings = Strings { $($field: $en,)* };
        /// Spanish.
        pub const ES: Strings = Strings { $($field: $es,)* };
    };
}

strings! {
    // Frame, menus, shortcuts
    menu_file: "File", "Archivo";
    menu_export: "Export", "Exportar";
    menu_view: "View", "Ver";
    toggle_theme: "Light / dark theme", "Tema claro / oscuro";
    open_model: "Open model…", "Abrir modelo…";
    open_model_tip: "Open an ONNX model (Ctrl+O), or drop .onnx files on the window", "Abrir un modelo ONNX (Ctrl+O), o soltar archivos .onnx en la ventana";
    open_data: "Open data…", "Abrir datos…";
    recent: "Recent", "Recientes";
    running_jobs: "Running jobs", "Tareas en curso";
    frame_time: "Frame time", "Tiempo de fotograma";
    frame_time_tip: "CPU time the UI took per frame over the last 240 frames (99th percentile); under 16 ms keeps 60 fps", "Tiempo de CPU por fotograma en los últimos 240 (percentil 99); por debajo de 16 ms se mantienen 60 fps";
    shortcuts_hint: "Ctrl+O model · Ctrl+D data · Ctrl+Enter run · Esc cancel · Ctrl+1…9 screens", "Ctrl+O modelo · Ctrl+D datos · Ctrl+Intro ejecutar · Esc cancelar · Ctrl+1…9 pantallas";
    tab_model: "Model", "Modelo";
    tab_predict: "Predict", "Predecir";
    tab_score: "Score file", "Puntuar archivo";
    tab_compare: "Compare", "Comparar";
    tab_monitor: "Monitor", "Monitorizar";
    tab_jobs: "Jobs", "Tareas";
    tab_versions: "Versions", "Versiones";
    tab_serve: "Serve", "Servir";
    serve_intro: "Serve the open models over HTTP from this machine: the Open Inference Protocol (KServe V2) that Triton, KServe and MLServer clients speak, KServe V1, and Prometheus metrics at /metrics.", "Servir los modelos abiertos por HTTP desde esta máquina: el Open Inference Protocol (KServe V2) que hablan los clientes de Triton, KServe y MLServer, KServe V1 y métricas de Prometheus en /metrics.";
    serve_host: "Host", "Host";
    serve_host_warning: "reachable from other machines", "accesible desde otras máquinas";
    serve_port: "Port", "Puerto";
    serve_port_tip: "0 picks any free port", "0 elige cualquier puerto libre";
    serve_batch_rows: "Rows per batch", "Filas por lote";
    serve_batch_delay: "Batch wait", "Espera del lote";
    serve_batch_delay_tip: "How long the first request of a batch may wait for others (0: score what is waiting at once; batches still form under load)", "Cuánto puede esperar la primera petición de un lote a otras (0: puntuar lo que espera de inmediato; con carga se forman lotes igualmente)";
    serve_models: "Models", "Modelos";
    serve_no_models: "Tick at least one open model", "Marque al menos un modelo abierto";
    serve_start: "Start serving", "Empezar a servir";
    serve_stop: "Stop", "Detener";
    serve_running_at: "serving", "sirviendo";
    serve_requests: "Requests", "Peticiones";
    serve_rate: "Requests per second", "Peticiones por segundo";
    serve_latency: "Latency p50 / p99", "Latencia p50 / p99";
    serve_statuses: "Answers by status", "Respuestas por estado";
    serve_batches: "Rows per batch × batches", "Filas por lote × lotes";
    serve_last: "Last requests", "Últimas peticiones";
    serve_examples: "Call it from your application", "Llamarlo desde su aplicación";
    serve_copy: "Copy", "Copiar";
    serve_started: "Serving at", "Sirviendo en";
    serve_stopped: "Server stopped", "Servidor detenido";
    serve_unavailable: "This window cannot start a server", "Esta ventana no puede iniciar un servidor";
    job_serve: "Start the server", "Iniciar el servidor";
    job_stop_serve: "Stop the server", "Detener el servidor";
    tab_deploy: "Deploy", "Desplegar";
    serve_live_drift: "Live drift", "Deriva en vivo";
    serve_drifted_over: "of the columns drifted over the last", "de las columnas derivaron en las últimas";
    serve_rows_word: "rows", "filas";
    serve_realised: "Realised (late labels)", "Real (etiquetas tardías)";
    serve_labelled_rows: "labelled rows", "filas etiquetadas";
    serve_alert_firing: "Alert firing", "Alerta activa";
    serve_since: "since", "desde";
    serve_alert_for: "Alert after", "Alertar tras";
    job_retrain: "Retrain", "Reentrenar";
    retrain_title: "Retrain", "Reentrenar";
    retrain_intro: "Run your own training command on new data; the model it writes is checked against the stage's version (the same inputs and classes), compared with it on the holdout with the gate and registered with its lineage. Promote is enabled only when every rule passes.", "Ejecutar su propio comando de entrenamiento con datos nuevos; el modelo que escribe se comprueba frente a la versión de la etapa (las mismas entradas y clases), se compara con ella en el conjunto reservado con la puerta y se registra con su linaje. Promover solo se habilita si pasa todas las reglas.";
    retrain_command: "Training command", "Comando de entrenamiento";
    retrain_command_tip: "Run without a shell, in a fresh folder; {data} {output} {holdout} {run_id} {workdir} {parent} are filled in. Remembered per model.", "Se ejecuta sin shell, en una carpeta nueva; se rellenan {data} {output} {holdout} {run_id} {workdir} {parent}. Se recuerda por modelo.";
    retrain_data: "New data", "Datos nuevos";
    retrain_data_tip: "The training data ({data})", "Los datos de entrenamiento ({data})";
    retrain_holdout: "Holdout", "Reservado";
    retrain_holdout_tip: "Labelled data the candidate and the stage's version are compared on", "Datos etiquetados con los que se comparan el candidato y la versión de la etapa";
    retrain_gate: "Gate", "Puerta";
    retrain_gate_tip: "Promotion rules, ';'-separated, e.g. 'roc_auc >= champion - 0.005'", "Reglas de promoción separadas por ';', p. ej. 'roc_auc >= champion - 0.005'";
    retrain_stage: "Stage", "Etapa";
    retrain_stage_tip: "The stage the candidate would take over; its version is the champion", "La etapa que el candidato ocuparía; su versión es la campeona";
    retrain_timeout: "Timeout", "Límite";
    retrain_timeout_tip: "Past it, the training command and every process it started are killed", "Pasado este tiempo, se matan el comando de entrenamiento y todos los procesos que inició";
    retrain_button: "Retrain", "Reentrenar";
    retrain_needs: "Give the training command, the new data, the holdout and its label column", "Indique el comando de entrenamiento, los datos nuevos, el conjunto reservado y su columna de etiqueta";
    retrain_promoted: "Promoted", "Promovido";
    retrain_refused: "Refused", "Rechazado";
    retrain_passed: "Passed, not promoted yet", "Aprobado, aún sin promover";
    retrain_promote_tip: "Move the stage to the candidate, with the gate it passed in the registry's history (a server following the stage picks it up through its route's strategy)", "Mover la etapa al candidato, con la puerta que pasó en el historial del registro (un servidor que sigue la etapa lo recoge con la estrategia de su ruta)";
    retrain_stage_moved: "The stage moved since this retrain: run it again to judge the candidate against its version now", "La etapa cambió desde este reentrenamiento: vuelva a ejecutarlo para juzgar al candidato frente a su versión actual";
    retrain_stays: "stays version", "sigue en la versión";
    retrain_candidate: "Candidate", "Candidato";
    retrain_log: "Run log:", "Registro de la ejecución:";
    version_word: "version", "versión";
    metric_word: "Metric", "Métrica";
    serve_log_dir: "Prediction log", "Registro de predicciones";
    serve_log_dir_hint: "a folder (empty: no log)", "una carpeta (vacío: sin registro)";
    serve_log_dir_tip: "Every served row is written there as Parquet segments (closed every 2 s); the Monitor screen can follow it, late labels are kept beside it", "Cada fila servida se escribe allí en segmentos Parquet (cerrados cada 2 s); la pantalla Monitorizar puede seguirlo y las etiquetas tardías se guardan a su lado";
    monitor_follow: "Follow", "Seguir";
    monitor_follow_tip: "Run again whenever the current data changes — a prediction log gaining segments — so the plots stay current", "Volver a ejecutar cada vez que cambian los datos actuales — un registro de predicciones que gana segmentos — para que los gráficos sigan al día";
    monitor_follow_server: "Follow the server's log", "Seguir el registro del servidor";
    monitor_follow_server_tip: "Monitor what the server this window runs has answered for the current model: its prediction log as current data, the logged outputs as they are, late labels joined", "Monitorizar lo que el servidor de esta ventana ha respondido para el modelo actual: su registro de predicciones como datos actuales, las salidas registradas tal cual, las etiquetas tardías unidas";
    serve_alert_for_tip: "How long a breach of one of the Monitor screen's alert rules must last before the alert fires (the rules the server judges live: drift, missing values, realised metrics from late labels)", "Cuánto debe durar el incumplimiento de una regla de alerta de la pantalla Monitorizar antes de que la alerta salte (las reglas que el servidor juzga en vivo: deriva, valores ausentes, métricas reales con etiquetas tardías)";
    deploy_intro: "Roll a new version out over the current one on the local server — canary (a growing share, sticky per customer), shadow (a copy of the traffic, never answering) or blue/green — with a gate measured every interval that aborts or promotes on its own; or replay recorded traffic first to see what the rollout would have done.", "Desplegar una nueva versión sobre la actual en el servidor local — canario (una cuota creciente, fija por cliente), sombra (una copia del tráfico que nunca responde) o azul/verde — con una puerta medida a cada intervalo que aborta o promueve sola; o reproducir antes tráfico registrado para ver qué habría hecho el despliegue.";
    deploy_champion: "Champion", "Campeón";
    deploy_challenger: "Challenger", "Aspirante";
    deploy_sources_tip: "An open model's file, or NAME@STAGE / NAME@VERSION from the registry", "El archivo de un modelo abierto, o NOMBRE@ETAPA / NOMBRE@VERSIÓN del registro";
    deploy_challenger_tip: "An open model's file, or NAME@STAGE / NAME@VERSION from the registry. Leave it empty, with a champion NAME@STAGE and a canary or shadow strategy, to roll out each new version of the stage (a promotion, a retrain) through the gate first", "El archivo de un modelo abierto, o NOMBRE@ETAPA / NOMBRE@VERSIÓN del registro. Déjelo vacío, con un campeón NOMBRE@ETAPA y una estrategia canary o shadow, para desplegar primero cada nueva versión de la etapa (una promoción, un reentrenamiento) a través de la puerta";
    deploy_waiting: "follows the registry stage: its next version (a promotion, a retrain) rolls out here through the gate", "sigue la etapa del registro: su próxima versión (una promoción, un reentrenamiento) se despliega aquí a través de la puerta";
    deploy_strategy: "Strategy", "Estrategia";
    deploy_strategy_tip: "canary:10,50,100@30s (shares and the interval), shadow[:PCT][@INTERVAL] or blue-green", "canary:10,50,100@30s (cuotas e intervalo), shadow[:PCT][@INTERVALO] o blue-green";
    deploy_sticky: "Sticky key column", "Columna de clave fija";
    deploy_sticky_tip: "Rows with the same value always get the same version (empty: requests are split one by one)", "Las filas con el mismo valor reciben siempre la misma versión (vacío: las peticiones se reparten una a una)";
    deploy_gate: "Gate rules", "Reglas de la puerta";
    deploy_gate_tip: "On the challenger, ';'-separated: error_rate, latency_p99_ms, agreement, kappa, score_psi, positive_rate_diff, positive_rate, mean_score, accuracy", "Sobre el aspirante, separadas por ';': error_rate, latency_p99_ms, agreement, kappa, score_psi, positive_rate_diff, positive_rate, mean_score, accuracy";
    deploy_failure_limit: "Failure limit", "Límite de fallos";
    deploy_min_rows: "Rows per measurement", "Filas por medición";
    deploy_start: "Start rollout on the local server", "Iniciar el despliegue en el servidor local";
    deploy_server_running: "A server is running: stop it on the Serve screen to start a rollout", "Hay un servidor en marcha: deténgalo en la pantalla Servir para iniciar un despliegue";
    deploy_live: "Live rollout", "Despliegue en curso";
    deploy_none_live: "No rollout is running on the local server.", "No hay ningún despliegue en el servidor local.";
    deploy_promote: "Promote challenger", "Promover al aspirante";
    deploy_abort: "Abort: all traffic to the champion", "Abortar: todo el tráfico al campeón";
    deploy_reason: "Reason", "Motivo";
    deploy_share: "Challenger share", "Cuota del aspirante";
    deploy_state: "State", "Estado";
    deploy_arm: "Arm", "Brazo";
    deploy_requests: "Requests", "Peticiones";
    deploy_rows: "Rows", "Filas";
    deploy_errors: "Error rate", "Tasa de error";
    deploy_p99: "Latency p99", "Latencia p99";
    deploy_positive: "Positive rate", "Tasa de positivos";
    deploy_mean_score: "Mean score", "Puntuación media";
    deploy_agreement: "Agreement", "Acuerdo";
    deploy_measurements: "Gate measurements", "Mediciones de la puerta";
    deploy_rule: "Rule", "Regla";
    deploy_value: "Value", "Valor";
    deploy_limit: "Limit", "Límite";
    deploy_events: "What it did", "Qué hizo";
    deploy_scores: "Scores of both arms on the same rows (last interval)", "Puntuaciones de ambos brazos en las mismas filas (último intervalo)";
    deploy_replay: "Replay recorded traffic", "Reproducir tráfico registrado";
    deploy_replay_data: "Recorded traffic", "Tráfico registrado";
    deploy_replay_data_tip: "A prediction log folder or any CSV / Parquet file with a timestamp column", "Una carpeta de registro de predicciones o cualquier CSV / Parquet con columna de tiempo";
    deploy_time_col: "Time column", "Columna de tiempo";
    deploy_target: "Label column (optional)", "Columna de etiqueta (opcional)";
    deploy_run_replay: "Replay", "Reproducir";
    deploy_verdict_promote: "✔ would promote at", "✔ se promovería en";
    deploy_verdict_abort: "✖ would abort at", "✖ se abortaría en";
    deploy_verdict_pass: "✔ the shadow test would pass at", "✔ la prueba en sombra pasaría en";
    deploy_verdict_undecided: "• undecided:", "• sin decidir:";
    deploy_exposure: "Challenger exposure", "Exposición del aspirante";
    deploy_keys: "distinct keys", "claves distintas";
    deploy_live_time: "Live, these settings take at least", "En vivo, esta configuración tarda al menos";
    deploy_to_promote: "to promote", "en promover";
    deploy_to_roll_back: "to roll back", "en revertir";
    deploy_window: "Window", "Ventana";
    deploy_share_pct: "Challenger share (%)", "Cuota del aspirante (%)";
    deploy_successful: "successful", "correcta";
    deploy_failed: "failed", "fallida";
    deploy_inconclusive: "inconclusive", "no concluyente";
    deploy_verdict_point: "verdict", "veredicto";
    deploy_all_rows: "Both models on every row", "Ambos modelos en todas las filas";
    deploy_stale: "The settings changed since this replay: replay again", "La configuración cambió desde esta reproducción: reprodúzcala de nuevo";
    deploy_invalid: "not valid", "no válido";
    job_replay: "Replay a rollout", "Reproducir un despliegue";
    job_route: "Change a route", "Cambiar una ruta";
    // Results and what produced them
    out_of_date: "Out of date", "Desactualizado";
    changed_since: "changed since", "cambió desde entonces";
    rerun_hint: "Run again (Ctrl+Enter) to bring it up to date.", "Vuelva a ejecutar (Ctrl+Intro) para actualizarlo.";
    part_model: "the model", "el modelo";
    part_models: "the models", "los modelos";
    part_data: "the data file", "el archivo de datos";
    part_reference: "the reference data", "los datos de referencia";
    part_settings: "the settings", "la configuración";
    part_rules: "the rules", "las reglas";
    part_stage: "the stage's version", "la versión de la etapa";
    predictions_of: "these are the predictions of", "estas son las predicciones de";
    save_predictions_of: "Save the predictions of", "Guardar las predicciones de";
    comparison_of: "this comparison is of", "esta comparación es de";
    monitor_of: "this report is of", "este informe es de";
    gate_of: "this verdict is for", "este veredicto es para";
    // Results in words
    rule_undefined: "is undefined for", "no está definida para";
    the_challenger: "the challenger", "el aspirante";
    the_champion: "the champion", "el campeón";
    rule_fell: "fell", "bajó";
    rule_rose: "rose", "subió";
    rule_limit: "limit", "límite";
    kind_numeric: "numeric", "numérica";
    kind_categorical: "categorical", "categórica";
    alert_dataset: "of the columns drifted, at or above the dataset threshold of", "de las columnas derivan, igual o por encima del umbral del conjunto de";
    alert_above: "is above", "supera";
    alert_below: "is below", "está por debajo de";
    alert_band: "is outside the reference band", "está fuera de la banda de referencia";
    severity_critical: "critical", "crítica";
    severity_warning: "warning", "aviso";
    // Models
    models: "Models", "Modelos";
    no_model: "No model is open. Open one with File ▸ Open model… or drop an .onnx file here.", "No hay ningún modelo abierto. Abra uno con Archivo ▸ Abrir modelo… o suelte un archivo .onnx aquí.";
    close_model: "Close this model", "Cerrar este modelo";
    compare_tick: "Compare", "Comparar";
    compare_tick_tip: "Tick to include in the comparison (the first ticked is the champion)", "Marcar para incluir en la comparación (el primero marcado es el campeón)";
    drop_hint: "Drop .onnx models or CSV / Parquet files on the window.", "Suelte modelos .onnx o archivos CSV / Parquet en la ventana.";
    properties: "Properties", "Propiedades";
    inputs: "Inputs", "Entradas";
    outputs: "Outputs", "Salidas";
    metadata_props: "Metadata (metadata_props)", "Metadatos (metadata_props)";
    categories: "categories", "categorías";
    classification: "classification", "clasificación";
    classes: "classes", "clases";
    regression: "regression", "regresión";
    file: "File", "Archivo";
    size: "Size", "Tamaño";
    task: "Task", "Tarea";
    producer: "Producer", "Productor";
    ir_version: "IR version", "Versión IR";
    opsets: "Opsets", "Opsets";
    domain: "Domain", "Dominio";
    model_version: "Model version", "Versión del modelo";
    doc_string: "Description (doc_string)", "Descripción (doc_string)";
    export_model_card: "Export model card…", "Exportar ficha del modelo…";
    export_model_card_tip: "Markdown: purpose, inputs and outputs with types and categories, metadata, limits", "Markdown: propósito, entradas y salidas con tipos y categorías, metadatos, límites";
    // Predict
    predict_one: "Predict one row", "Predecir una fila";
    preparing_form: "Preparing the form from the reference data…", "Preparando el formulario a partir de los datos de referencia…";
    predicted_label: "Predicted class", "Clase predicha";
    predicted_value: "Predicted value", "Valor predicho";
    class_probabilities: "Class probabilities", "Probabilidades por clase";
    latency: "Latency", "Latencia";
    latency_tip: "Time spent in ONNX Runtime for one row, in milliseconds", "Tiempo en ONNX Runtime para una fila, en milisegundos";
    load_row: "Row", "Fila";
    load_from: "Load it from", "Cargarla de";
    missing_tip: "Leave this value missing (a float input takes it as NaN)", "Dejar este valor ausente (una entrada decimal lo toma como NaN)";
    outside_range: "outside the training range", "fuera del rango de entrenamiento";
    training_range: "The reference's 1st–99th percentiles:", "Percentiles 1–99 de la referencia:";
    class: "class", "clase";
    probability: "probability", "probabilidad";
    job_row: "Load a row", "Cargar una fila";
    // Score
    score_file: "Score a file", "Puntuar un archivo";
    data_file: "Data", "Datos";
    no_file: "(no file)", "(ningún archivo)";
    browse: "Browse…", "Examinar…";
    browse_tip: "Choose a CSV or Parquet file (Ctrl+D), or drop one on the window", "Elegir un archivo CSV o Parquet (Ctrl+D), o soltarlo en la ventana";
    contract_passed: "Contract check passed: the data fits the model", "Comprobación de contrato superada: los datos encajan con el modelo";
    contract_blocking: "Contract check failed — blocking problems", "Comprobación de contrato fallida — problemas bloqueantes";
    problems: "Problems", "Problemas";
    severity: "Severity", "Gravedad";
    column: "Column", "Columna";
    row: "Row", "Fila";
    value: "Value", "Valor";
    count: "Rows affected", "Filas afectadas";
    message: "What to do", "Qué hacer";
    blocking: "blocking", "bloqueante";
    warning: "warning", "aviso";
    info: "info", "info";
    score_button: "Score", "Puntuar";
    score_tip: "Score every row in a background job (Ctrl+Enter); the window stays responsive", "Puntuar todas las filas en segundo plano (Ctrl+Intro); la ventana sigue respondiendo";
    save_predictions: "Save predictions…", "Guardar predicciones…";
    scored: "Scored", "Puntuadas";
    rows: "rows", "filas";
    rows_per_sec: "rows/s", "filas/s";
    eta: "left", "restantes";
    cancel: "Cancel", "Cancelar";
    cancel_tip: "Stop the job (Esc); no partial file is left behind", "Detener la tarea (Esc); no queda ningún archivo a medias";
    histogram: "Histogram", "Histograma";
    job_page: "Read a page of predictions", "Leer una página de predicciones";
    job_sort: "Sort the predictions by", "Ordenar las predicciones por";
    sort_limit: "Sorting is available for tables of up to", "La ordenación está disponible para tablas de hasta";
    this_table_has: "this one has", "esta tiene";
    all_rows: "all rows", "todas las filas";
    save_png: "Save PNG", "Guardar PNG";
    save_png_tip: "Save this plot as shown, as a PNG image", "Guardar este gráfico tal como se ve, como imagen PNG";
    save_table_csv: "Save table as CSV…", "Guardar tabla como CSV…";
    // Compare
    compare_versions: "Compare versions", "Comparar versiones";
    tick_models: "Tick two or more models in the list on the left.", "Marque dos o más modelos en la lista de la izquierda.";
    champion: "champion", "campeón";
    labelled_data: "Labelled data", "Datos etiquetados";
    target_column: "Target column", "Columna objetivo";
    target_tip: "The column with the true label or value; empty: the model's 'target' metadata", "La columna con la etiqueta o valor real; vacío: el metadato 'target' del modelo";
    gate_rules: "Promotion gate", "Criterio de promoción";
    gate_tip: "Rules a challenger must pass, separated by ';' — e.g. 'roc_auc >= champion - 0.005', 'recall drop <= 2%', 'latency_p99_ms <= 5'", "Reglas que debe cumplir el aspirante, separadas por ';' — p. ej. 'roc_auc >= champion - 0.005', 'recall drop <= 2%', 'latency_p99_ms <= 5'";
    threshold: "Threshold", "Umbral";
    threshold_tip: "Decision threshold on the positive-class probability for label-based metrics", "Umbral de decisión sobre la probabilidad de la clase positiva para las métricas basadas en etiquetas";
    bootstrap: "Bootstrap resamples", "Remuestreos bootstrap";
    bootstrap_tip: "Resamples for the 95 % confidence intervals (seeded, so reruns agree); 0 turns intervals off", "Remuestreos para los intervalos de confianza del 95 % (con semilla: las repeticiones coinciden); 0 los desactiva";
    compare_button: "Run comparison", "Ejecutar comparación";
    promotion_gate: "Promotion gate", "Criterio de promoción";
    gate_pass: "may be promoted", "se puede promocionar";
    gate_fail: "must not be promoted", "no se debe promocionar";
    metrics: "Metrics", "Métricas";
    metric: "Metric", "Métrica";
    delta_tip: "Challenger minus champion on the same rows, with a paired-bootstrap 95 % interval", "Aspirante menos campeón en las mismas filas, con intervalo bootstrap pareado del 95 %";
    roc_curve: "ROC curve", "Curva ROC";
    pr_curve: "Precision–recall curve", "Curva precisión–exhaustividad";
    calibration_curve: "Calibration (reliability)", "Calibración (fiabilidad)";
    mean_predicted: "mean predicted probability", "probabilidad media predicha";
    fraction_positive: "fraction positive", "fracción de positivos";
    confusion_matrices: "Confusion matrices (rows: truth, columns: predicted)", "Matrices de confusión (filas: real, columnas: predicho)";
    confusion_tip: "Counts of rows at the chosen threshold", "Recuento de filas con el umbral elegido";
    truth: "truth", "real";
    predicted: "predicted", "predicho";
    agreement: "Agreement", "Concordancia";
    agreement_rate: "Same decision", "Misma decisión";
    kappa_tip: "Agreement beyond chance: 1 perfect, 0 no better than chance", "Concordancia más allá del azar: 1 perfecta, 0 no mejor que el azar";
    mcnemar_tip: "Do the two models err on different rows more than chance would explain? A small p-value says yes", "¿Se equivocan los modelos en filas distintas más de lo que explicaría el azar? Un p-valor pequeño dice que sí";
    flipped_rows: "Rows whose decision flips", "Filas cuya decisión cambia";
    id_column: "Id column", "Columna de id";
    id_column_tip: "A column naming each row (e.g. customer_id), shown beside the rows whose decision flips", "Una columna que nombra cada fila (p. ej. customer_id), junto a las filas cuya decisión cambia";
    choose_data_first: "Choose the labelled data first", "Elija primero los datos etiquetados";
    no_gate_rules: "No gate rules: every challenger passes.", "Sin reglas: todo aspirante pasa.";
    curves: "Curves", "Curvas";
    higher_better: "Higher is better: green when the interval shows an improvement, red when it shows a loss", "Más alto es mejor: verde si el intervalo muestra una mejora, rojo si muestra una pérdida";
    lower_better: "Lower is better: green when the interval shows an improvement, red when it shows a loss", "Más bajo es mejor: verde si el intervalo muestra una mejora, rojo si muestra una pérdida";
    no_curves: "Curves are drawn for classifiers.", "Las curvas se dibujan para clasificadores.";
    false_positive_rate: "false positive rate", "tasa de falsos positivos";
    true_positive_rate: "true positive rate", "tasa de verdaderos positivos";
    recall: "recall", "exhaustividad";
    precision: "precision", "precisión";
    chance: "chance", "azar";
    no_agreement: "Agreement is computed between classifiers.", "La concordancia se calcula entre clasificadores.";
    id: "Id", "Id";
    // Monitor
    monitor_title: "Monitor drift and performance", "Monitorizar deriva y rendimiento";
    reference_data: "Reference", "Referencia";
    current_data: "Current", "Actual";
    chunks: "Chunks", "Tramos";
    chunks_tip: "Split the current data by period (1w, 1d, 12h; needs the time column) or every N rows", "Dividir los datos actuales por periodo (1w, 1d, 12h; requiere la columna de tiempo) o cada N filas";
    time_column: "Time column", "Columna de tiempo";
    time_column_tip: "Timestamp column for period chunks; empty: row order", "Columna de fecha y hora para tramos por periodo; vacío: orden de filas";
    drift_share: "Dataset drift at share", "Deriva del conjunto a partir de";
    drift_share_tip: "The dataset drifts when at least this share of columns drift (Evidently's default: 0.5)", "El conjunto deriva cuando deriva al menos esta fracción de columnas (por defecto en Evidently: 0,5)";
    alert_rules: "Alert rules", "Reglas de alerta";
    alert_tip: "Separated by ';' — e.g. 'share_drifted > 0.3', 'roc_auc < 0.7', 'roc_auc outside band' (the reference mean ± 3σ)", "Separadas por ';' — p. ej. 'share_drifted > 0.3', 'roc_auc < 0.7', 'roc_auc outside band' (media de referencia ± 3σ)";
    use_model: "Score with the current model", "Puntuar con el modelo actual";
    use_model_tip: "Adds prediction drift, and performance over time when the target column is present", "Añade la deriva de predicciones, y el rendimiento en el tiempo si está la columna objetivo";
    monitor_button: "Run monitor", "Monitorizar";
    exclude_columns: "Leave out", "Excluir";
    exclude_tip: "Columns not to test for drift (ids, free text), separated by commas", "Columnas que no se comprueban (identificadores, texto libre), separadas por comas";
    export_profile: "Export reference profile…", "Exportar perfil de referencia…";
    export_profile_tip: "The reference summarised (bins, quantiles, categories, a sorted sample) so drift can be computed later without the raw data", "La referencia resumida (intervalos, cuantiles, categorías, una muestra ordenada) para calcular la deriva más tarde sin los datos";
    no_alerts: "No alerts", "Sin alertas";
    alerts: "Alerts", "Alertas";
    data_drift: "Data drift", "Deriva de datos";
    columns_drifted: "columns drifted", "columnas con deriva";
    kind: "Kind", "Tipo";
    test: "Test", "Prueba";
    score: "Score", "Valor";
    verdict: "Verdict", "Veredicto";
    missing_change: "Missing Δ", "Δ ausentes";
    new_categories: "New categories", "Categorías nuevas";
    click_feature: "Click to see this feature's distributions and its drift over time", "Pulse para ver las distribuciones de esta variable y su deriva en el tiempo";
    drifted: "drift", "deriva";
    stable: "no drift", "sin deriva";
    distributions: "Reference vs current", "Referencia frente a actual";
    reference: "reference", "referencia";
    current: "current", "actual";
    drift_over_time: "Drift over time", "Deriva en el tiempo";
    share_drifted: "Share of columns drifted", "Fracción de columnas con deriva";
    prediction_drift: "Prediction drift", "Deriva de predicciones";
    performance_over_time: "Performance over time", "Rendimiento en el tiempo";
    realised: "realised", "real";
    estimated_cbpe: "estimated (CBPE, no labels)", "estimado (CBPE, sin etiquetas)";
    band_upper: "reference mean + 3σ", "media de referencia + 3σ";
    reference_band: "reference band (mean ± 3σ)", "banda de referencia (media ± 3σ)";
    choose_both_files: "Choose the reference and the current data first", "Elija primero los datos de referencia y los actuales";
    target_drift: "Target", "Objetivo";
    not_in_share: "not counted in the features' share", "no cuenta en la fracción de variables";
    sort_by_drift: "Sort by how far each column drifted", "Ordenar por cuánto deriva cada columna";
    category: "category", "categoría";
    share_of_rows: "share of rows", "fracción de filas";
    psi_by_bin: "Where the change comes from, bin by bin", "De dónde viene el cambio, intervalo a intervalo";
    bin: "Bin", "Intervalo";
    chunk: "chunk", "tramo";
    band_lower: "reference mean − 3σ", "media de referencia − 3σ";
    // Versions
    versions_title: "Versions, stages and bundles", "Versiones, etapas y paquetes";
    registry_folder: "Registry folder", "Carpeta del registro";
    registry_tip: "Plain JSON and model files; it can live under git", "JSON y archivos de modelo; puede estar bajo git";
    refresh: "Refresh", "Actualizar";
    registry_empty: "The registry is empty: register the current model above.", "El registro está vacío: registre arriba el modelo actual.";
    register_current: "Register", "Registrar";
    registry_name: "as", "como";
    note: "Note", "Nota";
    register: "Register version", "Registrar versión";
    stage: "Stage", "Etapa";
    stage_tip: "e.g. staging, production, archived", "p. ej. staging, production, archived";
    reason: "Reason", "Motivo";
    reason_tip: "Why — recorded in the history (required for promote and roll back)", "Por qué — queda en el historial (obligatorio para promocionar y revertir)";
    rollback: "Roll back stage", "Revertir etapa";
    version: "Version", "Versión";
    registered: "Registered", "Registrada";
    stages: "Stages", "Etapas";
    deleted: "deleted", "eliminada";
    check_gate: "Check gate", "Comprobar criterio";
    check_gate_tip: "Compare this version with the one the stage holds now, on the Compare screen's labelled data and rules", "Comparar esta versión con la que tiene ahora la etapa, con los datos etiquetados y reglas de la pantalla Comparar";
    promote: "Promote", "Promocionar";
    promote_tip: "Point the stage at this version (check the gate first)", "Apuntar la etapa a esta versión (compruebe antes el criterio)";
    make_bundle: "Bundle…", "Paquete…";
    name_first: "Type a name first", "Escriba primero un nombre";
    pick_stage: "Back to the list of stages", "Volver a la lista de etapas";
    new_stage: "New stage…", "Etapa nueva…";
    stage_empty: "This stage holds no version yet", "Esta etapa aún no tiene versión";
    reason_first: "Type the reason first (it goes into the history)", "Escriba primero el motivo (queda en el historial)";
    confirm_rollback: "Roll back", "Revertir";
    gate_needs_stage: "The stage holds no version to compare with", "La etapa no tiene versión con la que comparar";
    gate_needs_data: "Choose labelled data on the Compare screen first", "Elija primero datos etiquetados en la pantalla Comparar";
    already_there: "The stage already holds this version", "La etapa ya tiene esta versión";
    gate_failed_override: "The promotion gate failed for this version: promoting it needs an explicit override with a reason", "El criterio de promoción falló para esta versión: promocionarla requiere una anulación explícita con motivo";
    name_stage_first: "Name the stage first", "Nombre primero la etapa";
    confirm_promote: "Point", "Apuntar";
    gate_passed_on: "the gate passed", "el criterio se cumplió";
    no_gate_checked: "no gate was checked", "no se comprobó ningún criterio";
    override_gate: "Override the gate…", "Anular el criterio…";
    override_tip: "Promote despite the failed gate; the reason is written to the history as an override", "Promocionar pese al criterio fallido; el motivo queda en el historial como anulación";
    confirm_override: "Promote despite the failed gate:", "Promocionar pese al criterio fallido:";
    confirm_title: "Change production?", "¿Cambiar producción?";
    override_warning: "The promotion gate said this version must not be promoted.", "El criterio de promoción dijo que esta versión no se debe promocionar.";
    override_reason: "Why override it", "Por qué anularlo";
    override_reason_tip: "Say why, in at least 10 characters; it is written to the history", "Diga por qué, en al menos 10 caracteres; queda en el historial";
    override_and_promote: "Override and promote", "Anular y promocionar";
    confirm_yes: "Yes, change it", "Sí, cambiarla";
    against: "against", "frente a";
    gate_overridden: "gate overridden", "criterio anulado";
    make_bundle_tip: "Make a deployment bundle of this version (reference: the Monitor screen's reference data)", "Crear un paquete de despliegue de esta versión (referencia: los datos de referencia de Monitorizar)";
    timeline: "History", "Historial";
    ev_register: "registered", "registrada";
    ev_delete: "deleted", "eliminada";
    ev_promote: "promoted", "promocionada";
    ev_rollback: "rolled back", "revertida";
    ev_refuse: "refused for", "rechazada para";
    ev_no_candidate: "no candidate registered", "ningún candidato registrado";
    gate_failed_on: "gate failed", "puerta no superada";
    export_bundle: "Deployment bundle…", "Paquete de despliegue…";
    // Jobs
    jobs: "Jobs", "Tareas";
    no_jobs: "No jobs yet.", "Todavía no hay tareas.";
    clear_finished: "Clear finished", "Quitar las terminadas";
    job: "Job", "Tarea";
    status: "Status", "Estado";
    duration: "Duration", "Duración";
    done: "done", "hecha";
    cancelled: "cancelled", "cancelada";
    failed: "failed", "fallida";
    job_open: "Open", "Abrir";
    job_check: "Check", "Comprobar";
    job_score: "Score", "Puntuar";
    job_predict: "Predict one row", "Predecir una fila";
    job_form: "Prepare the form", "Preparar el formulario";
    job_compare: "Compare", "Comparar";
    job_monitor: "Monitor", "Monitorizar";
    job_save: "Save", "Guardar";
    job_registry: "Registry", "Registro";
    job_gate: "Promotion gate", "Criterio de promoción";
    job_bundle: "Bundle", "Paquete";
    saved: "Saved", "Guardado";
    // File picker
    choose_file: "Choose a file", "Elegir un archivo";
    up: "Up", "Subir";
    up_tip: "The folder that holds this one", "La carpeta que contiene esta";
    home: "Home", "Inicio";
    folder: "Folder", "Carpeta";
    folder_tip: "Type a folder (or a file) and press Enter", "Escriba una carpeta (o un archivo) y pulse Intro";
    only_files: "Only", "Solo";
    filter_tip: "Untick to see every file", "Desmarque para ver todos los archivos";
    quit: "Quit", "Salir";
    file_name: "File name", "Nombre del archivo";
    save: "Save", "Guardar";
    // Explanations of statistics
    tip_ks: "Kolmogorov–Smirnov test: the largest gap between the two cumulative distributions. Drift when the p-value is below the threshold (0.05).", "Prueba de Kolmogórov–Smirnov: la mayor distancia entre las dos distribuciones acumuladas. Hay deriva si el p-valor es menor que el umbral (0,05).";
    tip_chisquare: "Chi-square test on category counts. Drift when the p-value is below the threshold (0.05).", "Prueba chi-cuadrado sobre los recuentos por categoría. Hay deriva si el p-valor es menor que el umbral (0,05).";
    tip_z: "Two-proportion z-test (binary columns). Drift when the p-value is below the threshold (0.05).", "Prueba z de dos proporciones (columnas binarias). Hay deriva si el p-valor es menor que el umbral (0,05).";
    tip_wasserstein: "Wasserstein (earth mover's) distance divided by the reference standard deviation: how far the distribution moved, in reference SDs. Drift at 0.1 or more.", "Distancia de Wasserstein dividida por la desviación típica de referencia: cuánto se desplazó la distribución, en desviaciones típicas. Deriva a partir de 0,1.";
    tip_jensenshannon: "Jensen–Shannon distance (base-2 logarithm; 0 identical, 1 disjoint) between the binned distributions. Drift at 0.1 or more.", "Distancia de Jensen–Shannon (logaritmo en base 2; 0 idénticas, 1 disjuntas) entre las distribuciones por intervalos. Deriva a partir de 0,1.";
    tip_psi: "Population stability index: Σ (current − reference) · ln(current / reference) over bins. Below 0.1 stable, 0.1–0.25 moderate, above 0.25 large shift.", "Índice de estabilidad poblacional: Σ (actual − referencia) · ln(actual / referencia) por intervalos. Menos de 0,1 estable, 0,1–0,25 moderado, más de 0,25 gran cambio.";
    tip_hellinger: "Hellinger distance between the binned distributions (0 identical, 1 disjoint). Drift at 0.1 or more.", "Distancia de Hellinger entre las distribuciones por intervalos (0 idénticas, 1 disjuntas). Deriva a partir de 0,1.";
    tip_roc_auc: "Area under the ROC curve: the chance a random positive scores above a random negative (0.5 is chance).", "Área bajo la curva ROC: probabilidad de que un positivo al azar puntúe por encima de un negativo al azar (0,5 es el azar).";
    tip_average_precision: "Average precision: area under the precision–recall curve, as scikit-learn computes it.", "Precisión media: área bajo la curva precisión–exhaustividad, como la calcula scikit-learn.";
    tip_log_loss: "Log loss: mean negative log-probability of the true class (lower is better).", "Pérdida logarítmica: media del logaritmo negativo de la probabilidad de la clase real (mejor cuanto menor).";
    tip_brier: "Brier score: mean squared error of the positive-class probability (lower is better).", "Puntuación de Brier: error cuadrático medio de la probabilidad de la clase positiva (mejor cuanto menor).";
    tip_accuracy: "Share of rows whose predicted class is right, at the threshold.", "Fracción de filas cuya clase predicha es correcta, con el umbral.";
    tip_precision: "Of the rows predicted positive, the share that are positive.", "De las filas predichas como positivas, la fracción que lo son.";
    tip_recall: "Of the positive rows, the share predicted positive.", "De las filas positivas, la fracción predicha como positiva.";
    tip_f1: "Harmonic mean of precision and recall.", "Media armónica de precisión y exhaustividad.";
    tip_other: "See the README's metric table for the exact definition.", "Vea la tabla de métricas del README para la definición exacta.";
}

impl Strings {
    /// The name of a part of a result's stamp (see `gui::stamp`).
    pub fn stamp_part(&self, part: &str) -> &'static str {
        match part {
            "model" => self.part_model,
            "models" => self.part_models,
            "data" => self.part_data,
            "reference" => self.part_reference,
            "rules" => self.part_rules,
            "stage" => self.part_stage,
            _ => self.part_settings,
        }
    }

    /// A screen's name.
    pub fn tab(&self, tab: Tab) -> &'static str {
        match tab {
            Tab::Model => self.tab_model,
            Tab::Predict => self.tab_predict,
            Tab::Score => self.tab_score,
            Tab::Compare => self.tab_compare,
            Tab::Monitor => self.tab_monitor,
            Tab::Versions => self.tab_versions,
            Tab::Serve => self.tab_serve,
            Tab::Deploy => self.tab_deploy,
            Tab::Jobs => self.tab_jobs,
        }
    }
}

/// What a drift test measures and when it calls drift.
pub fn test_tip(s: &Strings, test: DriftTest) -> &'static str {
    match test {
        DriftTest::Ks => s.tip_ks,
        DriftTest::Chisquare => s.tip_chisquare,
        DriftTest::Z => s.tip_z,
        DriftTest::Wasserstein => s.tip_wasserstein,
        DriftTest::Jensenshannon => s.tip_jensenshannon,
        DriftTest::Psi => s.tip_psi,
        DriftTest::Hellinger => s.tip_hellinger,
    }
}

/// What a metric means.
pub fn metric_tip(s: &Strings, metric: &str) -> &'static str {
    match metric {
        "roc_auc" => s.tip_roc_auc,
        "average_precision" => s.tip_average_precision,
        "log_loss" => s.tip_log_loss,
        "brier_score" | "brier" => s.tip_brier,
        "accuracy" => s.tip_accuracy,
        m if m.starts_with("precision") => s.tip_precision,
        m if m.starts_with("recall") => s.tip_recall,
        m if m.starts_with("f1") => s.tip_f1,
        _ => s.tip_other,
    }
}

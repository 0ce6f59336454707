"""Word lists for the sense of a message: operations vocabulary and everyday contexts.

In: nothing. Out: terms (lowercase; one word or a phrase of up to three), English, Hebrew and
Hebrew transliteration, matched by ``zero_llm.routing.features`` as ``zero_llm.routing.lexicon``'s
are (whole tokens, Hebrew one-letter prefixes allowed):

- ``OPS_TERMS``: operations and engineering without code syntax (containers and orchestration,
  infrastructure as code, CI systems, git concepts, design patterns, architecture, build tools,
  package managers): the code model's work even when no line of code is written.
- ``EVERYDAY_TERMS``: the nouns and verbs of daily life (things to buy, the body, family and
  pets, gifts and greetings, food, word origins, small sums). A market or code word beside them
  is usually used in another sense ("a gift for a friend who trades", "my dog Python").
- ``PROSE_TASKS``: writing and editing prose (a cover letter, a post, the grammar of a
  paragraph): a tech word inside such a task does not make it code.
- ``TOOL_WORDS``: the words of an agent instruction that names a tool ("use the calendar tool").
- ``DEFINE_ASKS`` and ``JUDGEMENT_WORDS``: asks to explain something, and words of a choice; what
  they ask about (a software word, a market word) decides whose work it is.
- ``OTHER_SENSES``: set phrases in which a word of code or of markets means something else (the
  dress code, a ball python, the farmers market, chicken stock, שוק הכרמל, מדד גליקמי).
- ``NAMING_WORDS`` and ``NAME_LIKE_TERMS``: pets and the verbs of naming, and the names of
  programming languages and tools that people give pets and things ("our puppy Java").
- ``WHOLE_WORDS``: Hebrew words whose first letter is no prefix (``למכור`` is to sell, not ל +
  מכור, addicted; ``לגור`` is to live, not ל + גור, a puppy; ``מספר`` is a number, not מ + ספר).
- ``FOLLOW_UP_STARTS`` and ``GREETINGS``: how a short follow-up starts ("and what about..."), and
  the greetings and small remarks set aside before a message's real question.
"""

from __future__ import annotations

__all__ = [
    "BRIEF_ASKS",
    "DEFINE_ASKS",
    "EVERYDAY_TERMS",
    "FOLLOW_UP_STARTS",
    "GREETINGS",
    "JUDGEMENT_WORDS",
    "MONEY_SUMS",
    "NAME_LIKE_TERMS",
    "NAMING_WORDS",
    "OPS_TERMS",
    "OTHER_SENSES",
    "PIVOTS",
    "PROSE_TASKS",
    "TOOL_WORDS",
    "WHOLE_WORDS",
]


def _words(text: str) -> tuple[str, ...]:
    """Terms written one a line (phrases keep their spaces)."""
    return tuple(line.strip() for line in text.strip().splitlines() if line.strip())


OPS_TERMS: tuple[str, ...] = _words(
    """
    kubernetes
    k8s
    kubectl
    helm
    helm chart
    helm charts
    kustomize
    argocd
    argo cd
    istio
    service mesh
    pod
    pods
    ingress
    namespace
    namespaces
    statefulset
    daemonset
    configmap
    configmaps
    replicaset
    kubelet
    minikube
    container
    containers
    containerize
    containerized
    docker
    dockerfile
    docker compose
    docker-compose
    image registry
    podman
    orchestration
    terraform
    terraform state
    pulumi
    ansible
    ansible playbook
    playbook
    cloudformation
    infrastructure as code
    iac
    vagrant
    jenkins
    jenkinsfile
    github actions
    gitlab ci
    gitlab
    circleci
    travis
    bitbucket pipelines
    azure devops
    ci
    ci/cd
    pipeline
    pipelines
    workflow file
    build step
    devops
    sre
    deploy
    deploying
    deployment
    deployments
    redeploy
    rollback
    roll back
    rollout
    blue green
    blue-green
    canary
    canary release
    staging
    staging environment
    load balancer
    reverse proxy
    nginx
    autoscaling
    horizontal scaling
    observability
    prometheus
    grafana
    git
    rebase
    rebasing
    cherry-pick
    cherry pick
    stash
    git stash
    squash
    fast-forward
    detached head
    submodule
    submodules
    monorepo
    merge conflict
    merge conflicts
    pull request
    merge request
    force push
    commit
    commits
    branch
    branches
    branching
    trunk based
    gitflow
    git flow
    design pattern
    design patterns
    observer pattern
    factory pattern
    singleton
    adapter pattern
    decorator pattern
    strategy pattern
    builder pattern
    visitor pattern
    dependency injection
    inversion of control
    solid principles
    mvc
    mvvm
    microservice
    microservices
    monolith
    event sourcing
    cqrs
    message queue
    kafka
    rabbitmq
    architecture
    clean architecture
    api gateway
    idempotent
    idempotency
    maven
    gradle
    bazel
    makefile
    cmake
    webpack
    vite
    npm
    yarn
    pnpm
    pip
    poetry
    conda
    cargo
    homebrew
    brew
    apt-get
    nuget
    lockfile
    package manager
    semver
    קוברנטיס
    קוברנטס
    קוברנטיז
    קובר
    קיוב
    הלם צ'ארט
    פוד
    פודים
    אינגרס
    ניימספייס
    קלאסטר
    קלאסטרים
    קונטיינר
    קונטיינרים
    דוקר
    דוקרים
    דוקרפייל
    דוקר קומפוז
    אימג'
    אימג'ים
    טרפורם
    טראפורם
    פולומי
    אנסיבל
    פלייבוק
    ג'נקינס
    גיטהאב
    גיטהב
    גיטלאב
    גיטלב
    אקשנס
    גיטהאב אקשנס
    סי איי
    סיאיי
    סי די
    פייפליין
    פייפליינים
    פייפלין
    דבאופס
    דב אופס
    דיפלוי
    דיפלוימנט
    לדפלי
    לדפלוי
    רולבק
    סטייג'ינג
    לואד באלנסר
    גיט
    ריבייס
    רבייס
    צ'רי פיק
    סטאש
    סקווש
    מרג'
    מרג'ים
    למרג'
    קונפליקט
    קונפליקטים
    פול ריקווסט
    פול ריקוסט
    מרג' ריקווסט
    קומיט
    קומיטים
    בראנץ'
    ברנץ'
    בראנצ'ים
    ברנצ'ים
    ריפו
    ריפוזיטורי
    מונוריפו
    דיזיין פטרן
    דיזיין פטרנס
    תבנית עיצוב
    תבניות עיצוב
    סינגלטון
    פקטורי
    אובזרבר
    אובסרבר
    דקורייטור
    מיקרוסרביס
    מיקרוסרביסים
    מיקרו סרביסים
    מיקרוסרוויסים
    מונוליט
    ארכיטקטורת תוכנה
    קפקא
    ראביט
    מייבן
    גריידל
    וובפאק
    פיפ
    פואטרי
    נפם
    קונדה
    polyrepo
    multirepo
    feature flag
    feature flags
    feature toggle
    trunk-based
    trunk based development
    release branch
    hotfix branch
    git tag
    reflog
    bisect
    git bisect
    upstream
    gitignore
    pre-commit
    commit hook
    git hooks
    semantic versioning
    changelog
    twelve factor
    12 factor
    12-factor
    circuit breaker
    bulkhead
    retry
    retries
    backoff
    exponential backoff
    rate limit
    rate limiter
    rate limiting
    throttling
    timeouts
    dead letter
    dead letter queue
    dlq
    message broker
    pub/sub
    pubsub
    event bus
    event driven
    event-driven
    saga pattern
    outbox pattern
    strangler fig
    strangler pattern
    sidecar
    hexagonal
    ports and adapters
    domain driven
    domain-driven
    ddd
    bounded context
    repository pattern
    unit of work
    anti-pattern
    antipattern
    code smell
    technical debt
    tech debt
    overengineering
    overengineered
    scalability
    scale out
    sharding
    shard
    partitioning
    replication
    read replica
    replicas
    failover
    high availability
    eventual consistency
    cap theorem
    cache
    caching
    cache invalidation
    ttl
    cdn
    memcached
    redis
    redis streams
    latency
    throughput
    p99
    sla
    slo
    slos
    sli
    error budget
    on-call
    on call
    oncall
    postmortem
    post-mortem
    runbook
    pagerduty
    tracing
    distributed tracing
    opentelemetry
    otel
    jaeger
    datadog
    sentry
    new relic
    kibana
    loki
    logs
    log aggregation
    health check
    healthcheck
    liveness probe
    readiness probe
    uptime
    downtime
    zero downtime
    blue/green
    rolling update
    rolling deploy
    versioning
    build cache
    build system
    justfile
    sbt
    msbuild
    setuptools
    virtual env
    dependency
    dependencies
    dependency hell
    vendoring
    transitive dependency
    container image
    docker image
    docker volume
    ecr
    helmfile
    crd
    sealed secrets
    secret manager
    env vars
    environment variables
    config
    configuration
    yaml
    gcp
    ec2
    s3
    eks
    gke
    ecs
    fargate
    cloud run
    lambda
    serverless
    vps
    server
    servers
    self-hosted
    self host
    vm
    vms
    virtual machine
    openshift
    rancher
    k3s
    docker swarm
    load balancing
    shift left
    devsecops
    gitops
    platform engineering
    infra
    provisioning
    immutable infrastructure
    state file
    tfstate
    terragrunt
    saltstack
    packer
    ci pipeline
    cd pipeline
    continuous integration
    continuous delivery
    continuous deployment
    buildkite
    teamcity
    drone ci
    argo workflows
    tekton
    self-hosted runner
    cron
    cron job
    cronjob
    scheduler
    job queue
    celery
    sidekiq
    airflow
    webhook
    webhooks
    database
    databases
    schema
    orm
    deadlock
    connection pool
    microfrontend
    backend for frontend
    restful
    grpc
    graphql
    openapi
    swagger
    api versioning
    pagination
    idempotency key
    websocket
    websockets
    long polling
    sse
    oauth
    sso
    rbac
    unit tests
    integration tests
    e2e
    end to end tests
    test coverage
    code coverage
    flaky test
    flaky tests
    code review
    linting
    formatter
    static analysis
    type checking
    type hints
    error handling
    exception handling
    edge cases
    thread safety
    thread-safe
    concurrency
    parallelism
    race condition
    memory usage
    profiling
    readme
    docstring
    docstrings
    design doc
    uml
    sequence diagram
    class diagram
    yagni
    composition over inheritance
    interface
    interfaces
    abstraction
    coupling
    separation of concerns
    single responsibility
    open closed
    liskov
    mediator pattern
    command pattern
    state pattern
    proxy pattern
    facade
    facade pattern
    bot
    bots
    trading bot
    backtest
    backtests
    backtesting
    backtester
    backtesting engine
    backtest engine
    order service
    order router
    order management
    oms
    exchange api
    broker api
    api key
    api keys
    ccxt
    alpaca
    ib api
    ibkr api
    fix protocol
    price feed
    market data feed
    data feed
    tick data
    ohlc
    ohlcv
    decimal
    decimals
    floating point
    numeric
    bigint
    integer cents
    cents column
    rounding error
    pluggable
    plugin
    plugins
    refactor
    modular
    module
    modules
    קאש
    רדיס
    רדיס סטרימס
    טי טי אל
    תור הודעות
    דד לטר
    סרקיט ברייקר
    ריטריי
    ריטרי
    טיימאאוט
    טיים אאוט
    לייטנסי
    ת'רופוט
    סקייל
    סקיילינג
    שרדינג
    רפליקציה
    פיילאובר
    מוניטורינג
    ניטור
    אלרטים
    טרייסינג
    לוגים
    מטריקות
    מטריקס
    דשבורד
    גרפנה
    פרומתאוס
    דאטהדוג
    סנטרי
    און קול
    אינסידנט
    פוסטמורטם
    ראנבוק
    סמנטיק ורז'נינג
    ורז'נינג
    מייג'ור
    פאץ'
    טוועלב פקטור
    12 פקטור
    איוונט סורסינג
    איבנט סורסינג
    אירוע סורסינג
    סי קיו אר אס
    דיפנדנסי אינג'קשן
    הזרקת תלויות
    דיפנדנסיז
    דטאצ'ד הד
    טאג
    פורק
    קלון
    לשכפל ריפו
    גיטאיגנור
    פיצ'ר פלאג
    פיצ'ר פלאגס
    דגלי פיצ'רים
    פלאגין
    פלאגינים
    מודולרי
    אסינקאיו
    אסינק
    ת'רדים
    מקביליות
    קונקרנסי
    דדלוק
    ריס קונדישן
    מיגרציה
    מיגרציות
    סכמה
    סכימה
    טרנזקציה
    טרנזקציות
    בסיס נתונים
    דאטאבייס
    דטאבייס
    שרתים
    סרוויס
    סרביס
    וובהוק
    ווב הוק
    וובסוקט
    ווב סוקט
    איי פי איי
    אייפיאיי
    קרון
    קרון ג'וב
    שדולר
    סקדולר
    וורקר
    וורקרים
    סלרי
    איירפלו
    אמזון ווב סרוויסס
    איי דאבליו אס
    סרברלס
    למבדה
    וי אם
    מכונה וירטואלית
    אינפרה
    תשתית כקוד
    סטייט פייל
    ריליס
    ריליסים
    ארטיפקט
    ארטיפקטים
    בילד
    בילדים
    ראנר
    ראנרים
    וורקפלו
    וורקפלואו
    סיקרטס
    משתני סביבה
    קונפיג
    קונפיגורציה
    יאמל
    טסטים
    טסט קאברג'
    כיסוי קוד
    קוד ריוויו
    לינטר
    טייפ הינטס
    טיפול בשגיאות
    אדג' קייסים
    מקרי קצה
    דוקומנטציה
    ריד מי
    אינטרפייס
    ממשקים
    הפשטה
    צימוד
    פטרן
    פטרנים
    אנטי פטרן
    אנטי-פטרן
    חוב טכני
    אוברהנדסה
    אובר אנג'ינירינג
    בוט
    בוטים
    בוט מסחר
    הבוט
    בקטסט
    בקטסטים
    בקטסטר
    בקטסטינג
    מנוע בקטסט
    מנוע מסחר
    פיד מחירים
    דאטה פיד
    טיק דאטה
    דצימל
    פלואט
    נקודה צפה
    פייפר טריידינג
    ספר פקודות
    אורדר בוק
    ברוקר איי פי איי
    oomkilled
    oom
    out of memory
    memory leak
    memory limit
    memory limits
    cpu
    cpu usage
    cpu limit
    hpa
    vpa
    autoscaler
    cluster autoscaler
    node pool
    disk space
    disk usage
    disk full
    inode
    inodes
    paged
    pager
    paging
    alert noise
    alert fatigue
    sev1
    sev2
    runbooks
    escalation policy
    consumer lag
    consumer group
    partition
    partitions
    probe
    liveness
    readiness
    startup probe
    crashloopbackoff
    imagepullbackoff
    pending pods
    utc
    dst
    sequence number
    sequence numbers
    diff
    diffs
    reconnect
    resync
    billing service
    payment service
    endpoint
    endpoints
    payload
    status code
    http
    https
    tls
    ssl
    dns
    localhost
    firewall
    vpc
    subnet
    ssh key
    rds
    dynamo
    dynamodb
    bigquery
    s3 bucket
    cloudwatch
    cloudflare
    heroku
    vercel
    netlify
    digitalocean
    linux
    ubuntu
    container registry
    dev container
    devcontainer
    ide
    jetbrains
    jira
    merge queue
    code freeze
    release train
    version bump
    major version
    breaking change
    backwards compatible
    backward compatible
    קאפקה
    קפקה
    תורן
    תורנות
    פייג'
    פייג'ר
    דיסק
    סי פי יו
    נודים
    פרטישן
    פרטישנים
    אופסט
    טופיק
    פרוב
    לייבנס
    רדינס
    קראש לופ
    קראשלופ
    דיף
    ריקונקט
    ריסינק
    השרת
    בשרת
    מהשרת
    לשרת שלי
    הסרוויס
    סרוויסים
    סרביסים
    ריקווסט
    ריקווסטים
    רספונס
    לינוקס
    אובונטו
    פרוסס
    תהליך רקע
    ספרינט
    ג'ירה
    אסקלציה
    אסקלציות
    ראנבוקים
    בקאנד
    פרונטאנד
    פולסטאק
    רגקס
    רגאקס
    רג'אקס
    ביטוי רגולרי
    ביטויים רגולריים
    פיתון
    ג'אבה
    ג'אווה סקריפט
    ג'ס
    ג'ייסון
    ג'סון
    ימל
    טרמינל
    טרמינאל
    שורת פקודה
    קומנד ליין
    דאטהפריים
    דאטה פריים
    נאמפיי
    פנדאס
    מטפלוטליב
    ג'ופיטר
    נוטבוק
    וי אס קוד
    ויז'ואל סטודיו
    אינטליג'יי
    קומפוננט
    קומפוננטות
    אנגולר
    ג'נגו
    פלאסק
    פאסט איי פי איי
    פוסטגרס
    פוסטגרס קיו אל
    מונגו
    מונגו די בי
    מייסקיואל
    סקיואל
    אס קיו אל
    סקיואלייט
    ספארק
    איירטייבל
    גיטהאב קופיילוט
    קופיילוט
    בקנד
    דבלופר
    מפתח תוכנה
    פיתוח תוכנה
    קוד פתוח
    אופן סורס
    prod
    prod box
    prod server
    production server
    outage
    outages
    site is down
    site goes down
    site down
    keeps crashing
    crashes on the server
    web server
    app server
    release process
    release pipeline
    manual steps
    certificate
    certificates
    ssl cert
    tls cert
    cert expired
    time sync
    ntp
    clock drift
    auth token
    auth tokens
    disk fills
    task queue
    environments
    database migration
    database migrations
    migrations
    spf
    dkim
    dmarc
    deliverability
    alerting
    load testing
    load test
    secrets
    ssh keys
    access to prod
    prod logs
    single vm
    פרודקשן
    בפרודקשן
    פרוד
    שרת
    שרת ווב
    דאון טיים
    השבתה
    בלי השבתה
    ריברס פרוקסי
    רפליקות
    סביבות
    סביבת בדיקות
    סביבת פיתוח
    סביבת ייצור
    טוקן
    טוקנים
    גרסה חדשה
    העלינו גרסה
    אפגרייד
    מונורפו
    רפו
    רפואים
    תעודת אבטחה
    גיבוי אוטומטי
    צוואר הבקבוק
    סי-פי-יו
    זמן שרת
    קורס כל לילה
    נופל בשרת
    schedule the job
    scheduled job
    the job that
    ג'וב
    שירוץ
    מתוזמן
    our site
    our app
    our api
    our build
    our builds
    builds
    our servers
    our service
    our website
    our backend
    web app
    the site
    site crawls
    האתר שלנו
    האפליקציה שלנו
    השרת שלנו
    השירות שלנו
    """
)
"""Operations and engineering vocabulary (English, Hebrew, transliteration)."""

EVERYDAY_TERMS: tuple[str, ...] = _words(
    """
    buy a
    buying a
    monitor
    monitors
    screen
    screens
    laptop
    keyboard
    mouse
    chair
    desk
    standing desk
    headphones
    headset
    webcam
    phone
    tablet
    inch
    inches
    cable
    warranty
    back pain
    neck
    wrist
    wrists
    eyes
    eye strain
    posture
    stretch
    stretches
    stretching
    sleep
    tired
    headache
    stress
    stressed
    anxiety
    hurts
    hurt
    pain
    doctor
    exercise
    workout
    leg
    legs
    knee
    coffee
    lunch
    dinner
    breakfast
    recipe
    cook
    cake
    restaurant
    menu
    gift
    gifts
    present
    birthday
    anniversary
    wedding
    retirement party
    congratulate
    congratulations
    card
    greeting
    toast
    joke
    jokes
    funny
    poem
    mom
    dad
    mother
    father
    wife
    husband
    son
    daughter
    kid
    kids
    child
    children
    toddler
    grandma
    grandpa
    friend
    friends
    girlfriend
    boyfriend
    boss
    coworker
    colleague
    dog
    dogs
    cat
    cats
    puppy
    kitten
    pet
    pets
    hamster
    parrot
    snake
    named
    name for
    nickname
    etymology
    origin
    originate
    come from
    comes from
    in one sentence
    one sentence
    simple terms
    layman
    laymans
    like i'm five
    eli5
    tip
    tipping
    split the bill
    bill
    per person
    costs
    price tag
    cheap
    discount
    sale
    shopping
    supermarket
    groceries
    vegetables
    fruit
    tomatoes
    fish
    flowers
    hobby
    game
    games
    minecraft
    lego
    toy
    toys
    movie
    book
    books
    weather
    vacation
    trip
    hotel
    flight
    car
    bike
    garden
    plant
    plants
    בית
    מסך
    מסכים
    מחשב נייד
    לפטופ
    מקלדת
    עכבר
    כיסא
    כסא
    שולחן
    אוזניות
    טלפון
    אינץ'
    גב
    כאב גב
    צוואר
    עיניים
    יציבה
    מתיחות
    שינה
    עייף
    כאב
    כואב
    כואבת
    כואבים
    רופא
    רגל
    רגליים
    ברך
    ריצה
    אימון
    קפה
    ארוחה
    ארוחת
    מתכון
    לבשל
    עוגה
    מסעדה
    מתנה
    מתנות
    יום הולדת
    יומולדת
    יום נישואין
    חתונה
    ברכה
    ברכות
    מזל טוב
    בדיחה
    שיר
    אמא
    אבא
    אשתי
    בעלי
    הבן
    הבת
    ילד
    ילדה
    ילדים
    סבא
    סבתא
    חבר
    חברה
    חברים
    הבוס
    כלב
    כלבה
    חתול
    חתולה
    גור
    חיית מחמד
    קראתי לו
    קוראים לו
    קראנו לו
    קראנו לה
    קראו לו
    קראו לה
    קוראים לה
    קרא ל
    שקוראים לו
    נקרא
    נקראת
    בשם
    ששמו
    ששמה
    אימצנו
    אימצתי
    כלבלב
    גור כלבים
    תוכי
    אוגר
    דג זהב
    גולדפיש
    וטרינר
    רצועה
    תיק גב
    ארנק
    מזוודה
    נקרע
    שכחתי
    אזעקה
    מכולת
    נמל
    רהיטים
    משלוח
    אוזניות
    מאוורר
    חתונה
    כרטיס ברכה
    שם
    מילה
    המילה
    מאיפה
    מקור
    במשפט אחד
    בפשטות
    במילים פשוטות
    טיפ
    חשבון
    לחלק
    לכל אחד
    עודף
    להמיר
    מבצע
    הנחה
    קניות
    סופר
    ירקות
    פירות
    עגבניות
    דגים
    פרחים
    תחביב
    משחק
    משחקים
    מיינקראפט
    לגו
    צעצוע
    סרט
    ספר
    מזג אוויר
    חופשה
    טיול
    מלון
    טיסה
    אוטו
    רכב
    גינה
    צמח
    golden retriever
    retriever
    labrador
    lab puppy
    beagle
    poodle
    husky
    bulldog
    terrier
    chihuahua
    dachshund
    shepherd
    goldfish
    aquarium
    rabbit
    bunny
    turtle
    horse
    vet
    walks
    leash
    litter
    fur
    barking
    grass
    baby
    newborn
    teen
    teenager
    son's
    daughter's
    nephew
    niece
    sister
    brother
    aunt
    uncle
    cousin
    neighbor
    neighbour
    roommate
    bday
    graduation
    holiday
    christmas
    hanukkah
    party
    bbq
    picnic
    wine
    beer
    rice
    bread
    pasta
    sugar
    salt
    diet
    calories
    protein
    vitamin
    vitamins
    snack
    snacks
    water
    tea
    pizza
    chicken
    eggs
    soup
    salad
    allergy
    cold
    flu
    fever
    cough
    dentist
    glasses
    contact lenses
    blue light
    eye drops
    charger
    charging
    battery
    speaker
    speakers
    tv
    television
    printer
    fridge
    microwave
    oven
    air conditioner
    fan
    lamp
    couch
    sofa
    bed
    mattress
    pillow
    ergonomic
    ergonomics
    hz
    wireless
    bluetooth
    earbuds
    airpods
    iphone
    android
    ipad
    macbook
    smartwatch
    slang
    idiom
    saying
    phrase
    plural
    spell
    spelled
    pronounce
    pronunciation
    meaning of the word
    stand for
    stands for
    acronym
    podcast
    song
    lyrics
    poem about
    bucks
    evenly
    between us
    each person
    under $
    parking
    concert
    museum
    beach
    camping
    hiking
    gym
    yoga
    swimming
    football
    soccer
    basketball
    guitar
    piano
    painting
    knitting
    crochet
    chess
    puzzle
    crossword
    homework
    school
    teacher
    class trip
    אורז
    לחם
    פסטה
    סוכר
    מלח
    דיאטה
    קלוריות
    חלבון
    ויטמין
    ויטמינים
    מים
    תה
    פיצה
    עוף
    ביצים
    מרק
    סלט
    אלרגיה
    שפעת
    חום
    שיעול
    רופא שיניים
    משקפיים
    עדשות
    מטען
    סוללה
    כבל
    רמקול
    טלוויזיה
    מדפסת
    מקרר
    מיקרוגל
    תנור
    מזגן
    מאוורר
    מאורר
    מנורה
    ספה
    מיטה
    מזרן
    כרית
    ארגונומי
    ארגונומית
    אוזניות
    איירפודס
    אייפון
    אנדרואיד
    אייפד
    מקבוק
    שעון חכם
    סלנג
    ביטוי
    ניב
    פתגם
    לבטא
    ראשי תיבות
    פודקאסט
    ביגל
    לברדור
    פודל
    האסקי
    רועה
    ארנב
    צב
    סוס
    טיול עם הכלב
    נביחות
    תינוק
    תינוקת
    נער
    נערה
    אחי
    אחותי
    אחיין
    דודה
    דוד
    בן דוד
    שכן
    שכנה
    חג
    פסח
    חנוכה
    ראש השנה
    מסיבה
    מנגל
    פיקניק
    יין
    בירה
    דלק
    חניה
    כרטיס
    כרטיסים
    הופעה
    מוזיאון
    ים
    קמפינג
    חדר כושר
    יוגה
    שחייה
    כדורגל
    כדורסל
    גיטרה
    פסנתר
    ציור
    סריגה
    שחמט
    פאזל
    תשבץ
    שיעורי בית
    בית ספר
    גן
    מורה
    הלכה
    תנ"ך
    יהודי
    שבת
    closed on
    open on
    what time
    opening hours
    באיזו שעה
    שעות פתיחה
    screenshot
    screen shot
    צילום מסך
    סקרין שוט
    סקרינשוט
    יחידת דיור
    היתר בנייה
    שיפוץ
    דירה
    renovation
    building permit
    backyard
    חצר
    pixel
    galaxy
    kindle
    projector
    premium
    subscription
    worth paying
    worth the money
    course
    courses
    online course
    bootcamp
    habit
    break the habit
    addicted
    addiction
    compulsively
    obsessively
    melatonin
    breathing
    breathing exercise
    shedding
    eaten
    hasn't eaten
    terrarium
    enclosure
    reptile
    טאבלט
    מקרן
    מנוי
    קורס
    קורסים
    חוג
    אופניים
    קורקינט
    שווה את הכסף
    מכור
    מכורה
    התמכרות
    הרגל
    להפסיק
    משגע
    מלטונין
    טרריום
    מחבוא
    זוחל
    used car
    new car
    corolla
    toyota
    honda
    kia
    hyundai
    mazda
    ikea
    youtube
    netflix
    smarter buy
    photoshop
    excel course
    gadget
    gimmick
    rug
    stroller
    גימיק
    מנורת
    עגלה
    רכב יד שנייה
    יד שנייה
    אונליין
    פרונטלי
    זוגיות
    ביחד
    לגור יחד
    לעבור לגור
    בן זוג
    בת זוג
    בן הזוג
    בת הזוג
    החבר שלי
    החברה שלי
    להתחתן
    דייט
    דייטים
    relationship
    move in together
    moving in together
    dating
    interview
    job interview
    ראיון
    מראיין
    מראיינת
    ללבוש
    מה ללבוש
    what to wear
    outfit
    smart casual
    business casual
    חליפה
    """
)
"""Everyday nouns and verbs: beside a market or code word they point to another sense."""

PROSE_TASKS: tuple[str, ...] = _words(
    """
    cover letter
    resume
    cv
    linkedin
    linkedin post
    blog post
    tweet
    bio
    essay
    email
    e-mail
    message to
    paragraph
    grammar
    spelling
    proofread
    rephrase
    reword
    rewrite this
    polish
    tone
    translate
    translation
    summarize this
    speech
    thank you note
    job ad
    job posting
    motivation letter
    מכתב
    מכתב מקדים
    מכתב המלצה
    קורות חיים
    לינקדאין
    פוסט
    ציוץ
    חיבור
    מייל
    אימייל
    הודעה
    פסקה
    דקדוק
    שגיאות כתיב
    הגהה
    לנסח
    תנסח
    ניסוח
    לשכתב
    תשכתב
    תרגם
    לתרגם
    תרגום
    סיכום
    נאום
    ראיון
    ראיון עבודה
    מודעת דרושים
    summary
    resume summary
    about me
    bullet points
    headline
    caption
    newsletter
    farewell
    resignation
    resignation letter
    sounds more professional
    more professional
    make it shorter
    התפטרות
    מכתב התפטרות
    מייל התפטרות
    פסקת
    ביו
    כיתוב
    ניוזלטר
    שיישמע
    """
)
"""Writing and editing prose: a tech or market word inside such a task is its subject only."""

TOOL_WORDS: tuple[str, ...] = _words(
    """
    tool
    tools
    calendar
    reminder
    reminders
    schedule a meeting
    meeting
    contacts
    inbox
    notes app
    todo
    to-do
    alarm
    timer
    weather tool
    search tool
    web search
    email tool
    calendar tool
    כלי
    הכלי
    יומן
    ביומן
    תזכורת
    פגישה
    אנשי קשר
    משימות
    שעון מעורר
    טיימר
    """
)
"""The words of agent instructions that name a tool other than a code runner."""

BRIEF_ASKS: tuple[str, ...] = _words(
    """
    in one sentence
    one sentence
    1 sentence
    in one line
    one line
    in a sentence
    in simple terms
    simple terms
    simple version
    in two lines
    two sentences
    2 sentences
    בשתי שורות
    שתי שורות
    בשני משפטים
    כאילו אני
    plain english
    in plain words
    layman's terms
    laymans terms
    explain like
    like i'm
    like im
    eli5
    just the words
    short answer
    quick q
    what does it stand for
    stand for
    במשפט אחד
    במשפט
    בשורה אחת
    בשורה
    בקצרה
    ממש בקצרה
    בפשטות
    במילים פשוטות
    כמו לילד
    לילד
    בשביל אמא שלי
    בשתי מילים
    שורה אחת
    משפט אחד
    בכמה מילים
    בקיצור
    ממש בקיצור
    in a nutshell
    in a few words
    briefly
    tl;dr
    tldr
    super quick
    short version
    quick answer
    in one word
    """
)
"""Asks for a short, plain answer (a definition for a layperson, a one-liner)."""

MONEY_SUMS: tuple[str, ...] = _words(
    """
    how much is
    how much would
    how much each
    how much do i
    how much does
    each
    per person
    tip
    tipping
    split the bill
    splitting
    convert
    converting
    exchange rate
    in dollars
    in euros
    in shekels
    off
    discount
    total
    כמה זה
    כמה יוצא
    כמה עולה
    כמה כל אחד
    לכל אחד
    להמיר
    המרה
    בשקלים
    בדולרים
    ביורו
    טיפ
    הנחה
    סה"כ
    split
    evenly
    split evenly
    bucks
    how much will i have
    how much would i have
    save per month
    כמה יהיה לי
    לחלק
    שווה בשווה
    to usd
    to eur
    in usd
    in eur
    to dollars
    to euros
    to shekels
    approx
    approximately
    roughly
    לשקלים
    לדולרים
    ליורו
    בערך
    """
)
"""The words of simple money arithmetic (a tip, a split bill, a conversion, a discount)."""

PIVOTS: tuple[str, ...] = (
    "anyway",
    "the real question",
    "real question",
    "the actual ask",
    "actual question",
    "main question",
    "but mainly",
    "mainly wanted",
    "what i really want",
    "what i actually need",
    "ועכשיו לעניין",
    "ולעניין",
    "לעניין",
    "בעיקר רציתי",
    "השאלה האמיתית",
    "השאלה העיקרית",
    "ובעיקר",
    "אבל בעיקר",
    "ואז גדולה",
    "ואחרי זה",
    "ועכשיו השאלה",
    "השאלה שלי",
    "my question is",
    "so my question",
    "the thing i need",
    "now:",
    "and now:",
    "the real one",
    "and the real one",
    "secondly",
    "עכשיו:",
    "ועכשיו:",
    "העיקר:",
    "ועכשיו העיקר",
    "ועכשיו משהו אחר",
)
"""Words that turn from a small first question or greeting to the real one: what follows them is
the message's dominant intent."""

DEFINE_ASKS: tuple[str, ...] = _words(
    """
    what is
    what's
    whats
    what are
    what does
    what do
    what did
    what exactly is
    explain
    explain what
    meaning of
    mean
    means
    define
    definition
    difference between
    how does
    how do
    how is
    מה זה
    מה זו
    מה זאת
    מה הם
    מה הן
    מה ההבדל
    מה הפירוש
    פירוש
    מה המשמעות
    מה אומר
    תסביר
    תסבירי
    הסבר
    להסביר
    איך עובד
    איך עובדת
    איך עובדים
    spelling
    spelled
    spelt
    how do you spell
    which spelling
    pronounce
    pronunciation
    plural
    איך כותבים
    איך מאייתים
    כתיב
    איך אומרים
    איך מבטאים
    hyphen
    hyphenated
    correct spelling
    which is correct
    is it correct to say
    איך נכון לכתוב
    כותבים נכון
    """
)
"""Asks to explain or define something: with a software word it is the coder's work, with a market
word alone it is usually a plain definition."""

JUDGEMENT_WORDS: tuple[str, ...] = _words(
    """
    should
    should i
    should we
    worth
    worth it
    vs
    versus
    better
    best
    or
    pros and cons
    trade-off
    tradeoff
    overkill
    overengineering
    good idea
    bad idea
    recommend
    כדאי
    עדיף
    או
    שווה
    מומלץ
    רעיון טוב
    הכי טוב
    יותר טוב
    """
)
"""Words of a choice or a judgement: beside software words the choice is an engineering one."""

FOLLOW_UP_STARTS: tuple[str, ...] = (
    "and",
    "now",
    "also",
    "what about",
    "how about",
    "same",
    "ok",
    "okay",
    "great",
    "cool",
    "thanks",
    "then",
    "ומה",
    "ועכשיו",
    "עכשיו",
    "ואם",
    "אחלה",
    "מעולה",
    "סבבה",
    "יופי",
    "ואיך",
    "וגם",
    "ובנוסף",
    "אותו",
    "אותו דבר",
)
"""How a short follow-up in a conversation starts ("and what about the tests?", "now in go")."""

GREETINGS: tuple[str, ...] = _words(
    """
    hi
    hii
    hello
    hey
    heya
    yo
    howdy
    good morning
    good evening
    good afternoon
    morning
    gm
    thanks
    thank you
    thx
    ty
    hope you're
    hope youre
    hope you are
    hope all
    how are you
    how's it going
    hows it going
    how are things
    what's up
    whats up
    sup
    sorry
    quick one
    quick q
    quick question
    small question
    random question
    weird q
    first
    zero
    היי
    הי
    שלום
    אהלן
    הלו
    בוקר
    בוקר טוב
    ערב טוב
    צהריים טובים
    לילה טוב
    מה שלומך
    מה נשמע
    מה קורה
    מה המצב
    מה איתך
    תודה
    תודה רבה
    סליחה
    שאלה קטנה
    שאלה מהירה
    שאלה
    קודם כל
    קודם
    תגיד
    תגידי
    before i go back
    before i get back
    before i ask
    quick break
    stepped away
    taking a break
    לפני שאני חוזר
    לפני שאני חוזרת
    לפני שאני שואל
    לפני שאני שואלת
    הפסקה קצרה
    """
)
"""How a greeting or a small first remark starts ("hi!", "thanks for earlier", "בוקר טוב"): such
leading parts are set aside when a real question follows them."""

OTHER_SENSES: tuple[str, ...] = _words(
    """
    dress code
    zip code
    area code
    postal code
    post code
    promo code
    discount code
    coupon code
    gift code
    voucher code
    alarm code
    door code
    gate code
    access code
    pin code
    code of conduct
    morse code
    bar code
    cheat code
    cheat codes
    ball python
    ball pythons
    burmese python
    python snake
    pet python
    monty python
    cup of java
    java coffee
    java island
    ruby ring
    ruby necklace
    ruby slippers
    rust stain
    rust stains
    rust spots
    shipping container
    shipping containers
    storage container
    storage containers
    food container
    food containers
    plastic container
    plastic containers
    container garden
    container gardening
    container ship
    container home
    container house
    stomach bug
    bed bugs
    bed bug
    bug bite
    bug bites
    bug spray
    bugs bunny
    family tree
    christmas tree
    spring break
    spring cleaning
    franz kafka
    kafka's
    taylor swift
    red panda
    red pandas
    panda bear
    panda bears
    giant panda
    sea shell
    sea shells
    egg shell
    oil pipeline
    sales pipeline
    hiring pipeline
    talent pipeline
    bank branch
    tree branch
    olive branch
    branch manager
    commitment
    bake cookies
    baking cookies
    cookie recipe
    apple pie
    apple juice
    apple tree
    apple cider
    apples
    amazon rainforest
    amazon river
    tesla coil
    nikola tesla
    tourist visa
    work visa
    student visa
    visa application
    pit bull
    red bull
    bull riding
    teddy bear
    polar bear
    gummy bear
    gummy bears
    bear attack
    chicken stock
    beef stock
    vegetable stock
    out of stock
    stock photo
    stock photos
    stock image
    stock images
    james bond
    bonding
    art portfolio
    design portfolio
    portfolio website
    portfolio folder
    modeling portfolio
    crop yield
    yield sign
    farmers market
    farmer's market
    flea market
    christmas market
    night market
    fish market
    market stall
    trading cards
    trading card
    pokemon cards
    index finger
    index card
    index cards
    glycemic index
    body mass index
    uv index
    return policy
    capital city
    capital letter
    capital letters
    capital of
    car crash
    pep rally
    car rally
    back to the future
    hedge trimmer
    bubble tea
    bubble bath
    bubble wrap
    page margins
    chips and dip
    gold ring
    gold necklace
    gold medal
    silver ring
    olive oil
    oil change
    cooking oil
    coconut oil
    essential oils
    gas station
    gas stove
    קוד לבוש
    קוד האזעקה
    קוד אזעקה
    קוד סודי
    קוד הנחה
    קוד קופון
    קוד הכניסה
    קוד לדלת
    שוק הכרמל
    שוק מחנה יהודה
    שוק הפשפשים
    שוק פשפשים
    שוק האיכרים
    שוק איכרים
    שוק לוינסקי
    שוק רמלה
    שוק חנוכה
    יום שוק
    תיק גב
    תיק עבודות
    תיק עור
    תיק צד
    תיק יד
    תיק רפואי
    תיק בית ספר
    תיק לבית ספר
    תיק ללפטופ
    תיק ספורט
    תיק איפור
    קרן אור
    קרן שמש
    קרני שמש
    קרן הרחוב
    מדד גליקמי
    מדד מסת גוף
    מדד הקרינה
    דובי פו
    דובון
    נרות שבת
    נרות חנוכה
    נרות יום הולדת
    טבעת זהב
    שרשרת זהב
    עגילי זהב
    מדליית זהב
    ילד זהב
    שמן זית
    החלפת שמן
    גידור לגינה
    גידור לחצר
    גידור החצר
    גידור הגינה
    שער החצר
    שער הכניסה
    שער הבית
    שער העיר
    כבש שער
    מחסן
    מכולה
    מכולות
    בונד
    ג'יימס בונד
    ready to commit
    afraid to commit
    scared to commit
    commit to a gym
    commit to a relationship
    commit to him
    commit to her
    commit to me
    commitment issues
    commit לקשר
    commit למערכת יחסים
    קונטיינר ימי
    קונטיינר שילוח
    קונטיינר למגורים
    קונטיינר מגורים
    קונטיינר ישן
    מכולת שילוח
    old container
    metal container
    glass container
    container of
    royal python
    reticulated python
    carpet python
    פייתון מלכותי
    פייתון המלכותי
    נחש פייתון
    """
)
"""Set phrases in which a word of code or of markets is used in another sense: the word says
nothing about the message's task there, so it is set aside."""

NAMING_WORDS: tuple[str, ...] = _words(
    """
    named
    called
    nicknamed
    dog
    dogs
    puppy
    pup
    cat
    cats
    kitten
    kitty
    fish
    goldfish
    betta
    snake
    hamster
    gerbil
    guinea pig
    parrot
    bird
    rabbit
    bunny
    turtle
    tortoise
    lizard
    gecko
    horse
    pony
    pet
    pets
    retriever
    labrador
    beagle
    poodle
    husky
    terrier
    corgi
    dachshund
    boy
    girl
    נקרא
    נקראת
    נקראים
    קראנו
    קראתי
    קוראים
    בשם
    כלב
    כלבה
    כלבלב
    כלבלבה
    חתול
    חתולה
    חתלתול
    גור
    גורה
    דג
    דגה
    נחש
    תוכי
    אוגר
    ארנב
    ארנבת
    צב
    סוס
    ביגל
    לברדור
    פודל
    """
)
"""Pets and the verbs of naming: a language's name beside them is a name, not a language."""

NAME_LIKE_TERMS: frozenset[str] = frozenset(
    _words(
        """
        python
        java
        javascript
        ruby
        rust
        kotlin
        swift
        scala
        perl
        julia
        haskell
        pascal
        lua
        elixir
        dart
        fortran
        cobol
        pixel
        byte
        bit
        cookie
        linux
        ubuntu
        docker
        kafka
        pandas
        numpy
        django
        flask
        react
        redis
        git
        bash
        פייתון
        ג'אווה
        ג'אווהסקריפט
        רובי
        ראסט
        קוטלין
        סוויפט
        פרל
        פסקל
        ג'וליה
        לינוקס
        דוקר
        פיקסל
        בייט
        קוקי
        ריאקט
        """
    )
)
"""Names of programming languages and tools that are also given to pets and things."""

WHOLE_WORDS: frozenset[str] = frozenset(
    _words(
        """
        למכור
        לשים
        לגור
        להגן
        מטבע
        מטבעות
        מספר
        מספרים
        לשמור
        לבנות
        לבדוק
        לשתות
        לשלם
        לשנות
        לבחור
        להשקיע
        להחזיק
        לקנות
        לכתוב
        מכירה
        מכירת
        משכורת
        מחיר
        מחירים
        שווי
        """
    )
)
"""Hebrew words whose first letter belongs to the word: no prefix is cut from them (nor from the
rest once one of them is reached: ``למטבע`` is ל + מטבע, a coin, not ל + מ + טבע, Teva)."""

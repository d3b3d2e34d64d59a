from onestack.cli import main

raise SystemExit(main())
